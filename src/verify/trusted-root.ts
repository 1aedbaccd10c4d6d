// A Sigstore trusted root (the trusted_root.json of the TUF repository, or one a test builds)
// turned into @sigstore/verify's trust material by @sigstore/verify itself (toTrustMaterial over
// the protobuf TrustedRoot), so that key types and validity follow the library that verifies with
// them. Around it, our own checks: the mediaType, every field toTrustMaterial assumes is present
// (a fault is named by its path, not met as a TypeError), and a keyless root's CA and logs. The
// caller supplies the root: verification never fetches trust roots over the network.
import { createPublicKey } from 'node:crypto';

import { PublicKeyDetails, TrustedRoot, type PublicKey } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';

import { VerifyError } from './errors.ts';

type Json = Record<string, unknown>;
type TLogAuthority = TrustMaterial['tlogs'][number];

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v\d+\.\d+)?\+json(;version=\d+\.\d+)?$/;
const LISTS = ['certificateAuthorities', 'timestampAuthorities', 'tlogs', 'ctlogs'] as const;

/**
 * @sigstore/verify (4.1) reads these log keys as PKCS#1, though only PKCS1_* keys are written that
 * way: the PKIX_* ones are SubjectPublicKeyInfo, as sigstore-go and Rekor write them.
 */
const READ_AS_PKCS1: ReadonlySet<PublicKeyDetails> = new Set([
  PublicKeyDetails.PKCS1_RSA_PKCS1V5,
  PublicKeyDetails.PKIX_RSA_PKCS1V5,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_2048_SHA256,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_3072_SHA256,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_4096_SHA256,
]);
const WRITTEN_AS_PKCS1: ReadonlySet<PublicKeyDetails> = new Set([PublicKeyDetails.PKCS1_RSA_PKCS1V5, PublicKeyDetails.PKCS1_RSA_PSS]);

export function trustMaterialFromJson(trustedRoot: string | object): TrustMaterial {
  return usable(() => {
    const material = convert(readRoot(trustedRoot));
    assertKeylessRoot(material);
    return material;
  });
}

/**
 * The transparency logs a trusted root names, for key verification: a key needs no CA, but when
 * the root names a log, every signature must be in it (cosign's default). A root naming no log
 * gives none, and nothing is required.
 */
export function logsFromTrustedRoot(trustedRoot: string | object): TLogAuthority[] {
  return usable(() => convert(readRoot(trustedRoot)).tlogs);
}

export type { TLogAuthority };

function usable<T>(build: () => T): T {
  try {
    return build();
  } catch (cause) {
    if (cause instanceof VerifyError) throw cause;
    throw new VerifyError('TRUSTED_ROOT_INVALID', `trusted root is not usable: ${(cause as Error).message}`, cause);
  }
}

function convert(json: Json): TrustMaterial {
  try {
    return toTrustMaterial(protobufRoot(json), noKeyByHint);
  } catch (cause) {
    throw new Error(`${culprit(json) ?? 'an entry'} holds no usable key or certificate (${(cause as Error).message})`, { cause });
  }
}

function protobufRoot(json: Json): TrustedRoot {
  const root = TrustedRoot.fromJSON(json);
  for (const log of [...root.tlogs, ...root.ctlogs]) if (log.publicKey) log.publicKey = readableKey(log.publicKey);
  return root;
}

/** A trusted root holds log and CA keys only: a bundle naming a key by hint is not for it. */
function noKeyByHint(hint: string): never {
  throw new VerifyError('WRONG_KEY', `a trusted root holds no key for hint ${hint}`);
}

/** The key re-encoded the way toTrustMaterial will read it, where that differs from how it is written. */
function readableKey(key: PublicKey): PublicKey {
  const written = WRITTEN_AS_PKCS1.has(key.keyDetails) ? 'pkcs1' : 'spki';
  const read = READ_AS_PKCS1.has(key.keyDetails) ? 'pkcs1' : 'spki';
  if (written === read || !key.rawBytes) return key;
  try {
    return { ...key, rawBytes: createPublicKey({ key: key.rawBytes, format: 'der', type: written }).export({ format: 'der', type: read }) };
  } catch {
    return key; // as written: toTrustMaterial then says what it cannot read
  }
}

/** Which entry toTrustMaterial failed on, found by converting each alone (only after a failure). */
function culprit(json: Json): string | undefined {
  for (const list of LISTS) {
    const entries = (json[list] ?? []) as unknown[];
    for (const [i, entry] of entries.entries()) {
      try {
        toTrustMaterial(protobufRoot({ [list]: [entry] }));
      } catch {
        return `${list}[${i}]`;
      }
    }
  }
  return undefined;
}

/** The JSON form, checked for everything toTrustMaterial takes for granted. */
function readRoot(trustedRoot: string | object): Json {
  const root = object(typeof trustedRoot === 'string' ? JSON.parse(trustedRoot) : trustedRoot, 'the trusted root');
  if (typeof root.mediaType !== 'string' || !MEDIA_TYPE.test(root.mediaType)) {
    throw new Error(`mediaType is ${JSON.stringify(root.mediaType ?? null)}, not a Sigstore trusted root (application/vnd.dev.sigstore.trustedroot+json;version=0.1)`);
  }
  for (const list of LISTS) {
    const entries = root[list];
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) throw new Error(`${list} is not a list`);
    entries.forEach((entry: unknown, i) => (list === 'tlogs' || list === 'ctlogs' ? checkLog : checkAuthority)(entry, `${list}[${i}]`));
  }
  return root;
}

function checkLog(entry: unknown, path: string): void {
  const log = object(entry, path);
  const key = object(log.publicKey, `${path}.publicKey`);
  base64(key.rawBytes, `${path}.publicKey.rawBytes`);
  const id = log.checkpointKeyId === undefined ? 'logId' : 'checkpointKeyId';
  base64(object(log[id], `${path}.${id}`).keyId, `${path}.${id}.keyId`);
  validity(key.validFor, `${path}.publicKey.validFor`);
}

function checkAuthority(entry: unknown, path: string): void {
  const ca = object(entry, path);
  const certificates = object(ca.certChain, `${path}.certChain`).certificates;
  if (!Array.isArray(certificates) || certificates.length === 0) throw new Error(`${path}.certChain.certificates is not a list of certificates`);
  certificates.forEach((cert: unknown, j) => base64(object(cert, `${path}.certChain.certificates[${j}]`).rawBytes, `${path}.certChain.certificates[${j}].rawBytes`));
  validity(ca.validFor, `${path}.validFor`);
}

// Keyless verification needs a Fulcio CA to chain to, a Rekor key and a CT log key; a root without
// them (`{}`) would otherwise fail every bundle with a misleading reason.
function assertKeylessRoot(material: TrustMaterial): void {
  const missing = [
    material.certificateAuthorities.length === 0 ? 'certificateAuthorities (Fulcio)' : undefined,
    material.tlogs.length === 0 ? 'tlogs (Rekor)' : undefined,
    material.ctlogs.length === 0 ? 'ctlogs (certificate transparency)' : undefined,
  ].filter((m) => m !== undefined);
  if (missing.length > 0) throw new Error(`it lists no ${missing.join(', no ')}`);
}

function validity(value: unknown, path: string): void {
  if (value === undefined) return;
  const range = object(value, path);
  for (const end of ['start', 'end'] as const) {
    const at = range[end];
    if (at !== undefined && (typeof at !== 'string' || Number.isNaN(Date.parse(at)))) throw new Error(`${path}.${end} is not a timestamp`);
  }
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path} is not an object`);
  return value as Json;
}

function base64(value: unknown, path: string): void {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new Error(`${path} is not base64 bytes`);
}
