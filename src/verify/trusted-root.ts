// A Sigstore trusted root (the trusted_root.json of the TUF repository, or one a test builds)
// converted from its JSON form into @sigstore/verify's trust material. The caller supplies it:
// verification never fetches trust roots over the network.
import { createPublicKey, type KeyObject } from 'node:crypto';

import { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';

import { VerifyError } from './errors.ts';

type Json = Record<string, unknown>;
type CertAuthority = TrustMaterial['certificateAuthorities'][number];
type TLogAuthority = TrustMaterial['tlogs'][number];

const BEGINNING = new Date(0);
const END = new Date(8_640_000_000_000_000);

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v\d+\.\d+)?\+json(;version=\d+\.\d+)?$/;

export function trustMaterialFromJson(trustedRoot: string | object): TrustMaterial {
  try {
    const root = object(typeof trustedRoot === 'string' ? JSON.parse(trustedRoot) : trustedRoot);
    if (typeof root.mediaType !== 'string' || !MEDIA_TYPE.test(root.mediaType)) {
      throw new Error(`mediaType is ${JSON.stringify(root.mediaType ?? null)}, not a Sigstore trusted root (application/vnd.dev.sigstore.trustedroot+json;version=0.1)`);
    }
    const material = {
      certificateAuthorities: list(root.certificateAuthorities).map(toCertAuthority),
      timestampAuthorities: list(root.timestampAuthorities).map(toCertAuthority),
      tlogs: list(root.tlogs).map(toLogAuthority),
      ctlogs: list(root.ctlogs).map(toLogAuthority),
      publicKey: (hint: string): never => {
        throw new VerifyError('WRONG_KEY', `a trusted root holds no key for hint ${hint}`);
      },
    };
    assertKeylessRoot(material);
    return material;
  } catch (cause) {
    if (cause instanceof VerifyError) throw cause;
    throw new VerifyError('TRUSTED_ROOT_INVALID', `trusted root is not usable: ${(cause as Error).message}`, cause);
  }
}

/**
 * The transparency logs a trusted root names, for key verification: a key needs no CA, but when
 * the root names a log, every signature must be in it (cosign's default). A root naming no log
 * gives none, and nothing is required.
 */
export function logsFromTrustedRoot(trustedRoot: string | object): TLogAuthority[] {
  try {
    const root = object(typeof trustedRoot === 'string' ? JSON.parse(trustedRoot) : trustedRoot);
    if (typeof root.mediaType !== 'string' || !MEDIA_TYPE.test(root.mediaType)) {
      throw new Error(`mediaType is ${JSON.stringify(root.mediaType ?? null)}, not a Sigstore trusted root (application/vnd.dev.sigstore.trustedroot+json;version=0.1)`);
    }
    return list(root.tlogs).map(toLogAuthority);
  } catch (cause) {
    throw new VerifyError('TRUSTED_ROOT_INVALID', `trusted root is not usable: ${(cause as Error).message}`, cause);
  }
}

export type { TLogAuthority };

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

function toCertAuthority(ca: Json): CertAuthority {
  const chain = list(object(ca.certChain).certificates);
  return {
    certChain: chain.map((cert) => X509Certificate.parse(bytes(cert.rawBytes))),
    validFor: validity(ca.validFor),
  };
}

function toLogAuthority(log: Json): TLogAuthority {
  const key = object(log.publicKey);
  const checkpointKeyId = log.checkpointKeyId ? object(log.checkpointKeyId).keyId : undefined;
  return {
    baseURL: typeof log.baseUrl === 'string' ? log.baseUrl : '',
    logID: bytes(checkpointKeyId ?? object(log.logId).keyId),
    publicKey: toKey(bytes(key.rawBytes), typeof key.keyDetails === 'string' ? key.keyDetails : ''),
    validFor: validity(key.validFor),
  };
}

// Sigstore marks bare PKCS#1 RSA keys by their key details; everything else is SubjectPublicKeyInfo.
function toKey(der: Buffer, keyDetails: string): KeyObject {
  return createPublicKey({ key: der, format: 'der', type: keyDetails.startsWith('PKCS1_') ? 'pkcs1' : 'spki' });
}

function validity(value: unknown): { start: Date; end: Date } {
  const range = value === undefined ? {} : object(value);
  return {
    start: typeof range.start === 'string' ? new Date(range.start) : BEGINNING,
    end: typeof range.end === 'string' ? new Date(range.end) : END,
  };
}

function list(value: unknown): Json[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error('expected a list');
  return value.map(object);
}

function object(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object');
  return value as Json;
}

function bytes(value: unknown): Buffer<ArrayBuffer> {
  if (typeof value !== 'string' || value === '') throw new Error('expected base64 bytes');
  return Buffer.from(value, 'base64');
}
