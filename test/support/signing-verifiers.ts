// Verifiers we did not write, run as the tests' judges: cosign v2.6, securesystemslib and the
// OpenSSF model_signing CLI (PyPI model-signing 1.1).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { requireTool, toolPaths } from '../../hack/env/tools.ts';

const run = promisify(execFile);

export interface ToolVerdict {
  readonly ok: boolean;
  readonly output: string;
}

export type CosignInput =
  | { readonly bundle: string; readonly envelope?: never }
  | { readonly envelope: string; readonly bundle?: never };

/** A local file model, or a directory model's root digest (hex). */
export type CosignArtifact = { readonly file: string } | { readonly sha256: string };

// cosign v2.6 reads a `--bundle` in its new-bundle code path, which refuses to run without a
// trusted root and, offline, cannot fetch Sigstore's. For a key-signed bundle verified with
// --insecure-ignore-tlog nothing in the root is consulted: a trusted root holding only its
// mediaType is accepted (checked with cosign v2.6.4; the four lists may also be present and
// empty). For `--signature`, naming a Rekor key in SIGSTORE_REKOR_PUBLIC_KEY keeps cosign from
// trying to fetch the TUF root; HOME and TUF_ROOT point into a scratch directory.
const KEY_ONLY_TRUSTED_ROOT = { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' };

/** `type`: the predicate type cosign requires (default SLSA provenance v1; a URI for any other). */
export async function cosignVerifyBlobAttestation(publicKeyPath: string, input: CosignInput, artifact: CosignArtifact, type = 'slsaprovenance1'): Promise<ToolVerdict> {
  const cosign = requireTool(toolPaths().cosign, 'cosign');
  const scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cosign-'));
  try {
    const argv = ['verify-blob-attestation', '--key', publicKeyPath, '--type', type, '--insecure-ignore-tlog'];
    if (input.bundle !== undefined) {
      const trustedRoot = join(scratch, 'trusted_root.json');
      await writeFile(trustedRoot, JSON.stringify(KEY_ONLY_TRUSTED_ROOT));
      argv.push('--bundle', input.bundle, '--trusted-root', trustedRoot);
    } else {
      argv.push('--signature', input.envelope);
    }
    argv.push(...('file' in artifact ? [artifact.file] : ['--digest', artifact.sha256, '--digestAlg', 'sha256']));
    const env = { PATH: process.env.PATH ?? '', HOME: scratch, TUF_ROOT: join(scratch, 'tuf'), SIGSTORE_REKOR_PUBLIC_KEY: publicKeyPath };
    return await verdict(run(cosign, argv, { env, timeout: 30_000 }));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// securesystemslib only considers signatures whose keyid equals the key's keyid, so the key is
// built with the envelope's keyid; its default scheme for a P-256 key is ecdsa-sha2-nistp256.
const SECURESYSTEMSLIB_VERIFY = `
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
with open(sys.argv[1]) as f:
    data = json.loads(f.read())
keyid = data["signatures"][0].get("keyid", "")
envelope = Envelope.from_dict(data)
with open(sys.argv[2], "rb") as f:
    key = SSlibKey.from_crypto(load_pem_public_key(f.read()), keyid=keyid)
accepted = envelope.verify([key], 1)
print(json.dumps({"accepted": sorted(accepted), "scheme": key.scheme, "payloadType": envelope.payload_type}))
`;

/** Verifies a DSSE envelope file (one JSON line) with securesystemslib's Envelope.verify. */
export async function securesystemslibVerify(envelopePath: string, publicKeyPath: string): Promise<ToolVerdict> {
  const python = requireTool(toolPaths().verifierPython, 'verifiers');
  return verdict(run(python, ['-c', SECURESYSTEMSLIB_VERIFY, envelopePath, publicKeyPath], { timeout: 30_000 }));
}

async function verdict(execution: Promise<{ stdout: string; stderr: string }>): Promise<ToolVerdict> {
  try {
    const { stdout, stderr } = await execution;
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || (e.message ?? '') };
  }
}

// sigstore-python's own model of a Sigstore bundle (what model-signing loads bundles with).
const SIGSTORE_PYTHON_PARSE = `
import sys
from sigstore_models.bundle.v1 import Bundle
with open(sys.argv[1]) as f:
    bundle = Bundle.from_json(f.read())
print(bundle.media_type, len(bundle.verification_material.tlog_entries))
`;

/** Parses a bundle file with sigstore-python's protobuf model (sigstore_models). */
export async function sigstorePythonParseBundle(bundlePath: string): Promise<ToolVerdict> {
  const python = requireTool(toolPaths().verifierPython, 'verifiers');
  return verdict(run(python, ['-c', SIGSTORE_PYTHON_PARSE, bundlePath], { timeout: 30_000 }));
}

/** Runs cosign with a scratch HOME, offline; returns its verdict. */
export async function cosign(argv: readonly string[], env: Record<string, string> = {}): Promise<ToolVerdict> {
  const binary = requireTool(toolPaths().cosign, 'cosign');
  const scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cosign-'));
  try {
    return await verdict(run(binary, [...argv], { env: { PATH: process.env.PATH ?? '', HOME: scratch, TUF_ROOT: join(scratch, 'tuf'), ...env }, timeout: 60_000 }));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** How `model_signing verify` is told whom to trust. */
export type ModelSigningTrust =
  | { readonly kind: 'key'; readonly publicKeyPath: string }
  /** Keyless: the certificate identity and issuer, and a Sigstore ClientTrustConfig (see clientTrustConfig). */
  | { readonly kind: 'sigstore'; readonly identity: string; readonly issuer: string; readonly trustConfigPath: string }
  /** A PKI certificate chain (`model_signing sign certificate`'s counterpart). */
  | { readonly kind: 'certificate'; readonly chainPath: string };

/**
 * `model_signing verify key|sigstore|certificate --signature SIG MODEL`, the CLI of the verifier
 * venv, offline. It exits 0 and prints "Verification succeeded" only when the model matches.
 */
export async function modelSigningVerify(modelPath: string, signaturePath: string, trust: ModelSigningTrust): Promise<ToolVerdict> {
  const cli = join(dirname(requireTool(toolPaths().verifierPython, 'verifiers')), 'model_signing');
  const argv = ['verify', trust.kind, '--signature', signaturePath];
  if (trust.kind === 'key') argv.push('--public_key', trust.publicKeyPath);
  if (trust.kind === 'sigstore') argv.push('--identity', trust.identity, '--identity_provider', trust.issuer, '--trust_config', trust.trustConfigPath);
  if (trust.kind === 'certificate') argv.push('--certificate_chain', trust.chainPath);
  argv.push(modelPath);
  const scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-model-signing-'));
  try {
    // A scratch HOME: sigstore-python caches trust material there; nothing is fetched with --trust_config.
    const verdictOf = await verdict(run(cli, argv, { env: { PATH: process.env.PATH ?? '', HOME: scratch }, timeout: 60_000 }));
    return { ok: verdictOf.ok && /Verification succeeded/.test(verdictOf.output), output: verdictOf.output };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A Sigstore ClientTrustConfig (what sigstore-python, and so `model_signing verify sigstore
 * --trust_config`, reads): the trusted root, plus a signing config naming the Fulcio and Rekor the
 * root trusts (read, never contacted, when verifying).
 */
export function clientTrustConfig(trustedRoot: object, services: { readonly fulcioURL: string; readonly rekorURL: string }): object {
  const service = (url: string): object => ({ url, majorApiVersion: 1, validFor: { start: '2020-01-01T00:00:00Z' }, operator: 'slsa-ml-test' });
  return {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot,
    signingConfig: {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [service(services.fulcioURL)],
      oidcUrls: [],
      rekorTlogUrls: [service(services.rekorURL)],
      rekorTlogConfig: { selector: 'ANY' },
      tsaUrls: [],
      tsaConfig: { selector: 'ANY' },
    },
  };
}

/**
 * cosign as a user runs it on a logged key-signed bundle: `verify-blob-attestation --bundle
 * --trusted-root --key`, with no --insecure-ignore-tlog, so cosign requires an entry from a log the
 * trusted root names and checks its checkpoint and inclusion proof (offline, from the bundle).
 */
export async function cosignVerifyLogged(publicKeyPath: string, bundlePath: string, trustedRootPath: string, artifact: CosignArtifact, type = 'slsaprovenance1'): Promise<ToolVerdict> {
  const argv = ['verify-blob-attestation', '--key', publicKeyPath, '--type', type, '--bundle', bundlePath, '--trusted-root', trustedRootPath];
  argv.push(...('file' in artifact ? [artifact.file] : ['--digest', artifact.sha256, '--digestAlg', 'sha256']));
  return cosign(argv);
}

/** sigstore-go's check of the same (hack/tools/sigstore-go-verify): the key, one entry of a trusted log. */
export async function sigstoreGoVerify(publicKeyPath: string, bundlePath: string, trustedRootPath: string, artifact: CosignArtifact): Promise<ToolVerdict> {
  const binary = requireTool(toolPaths().sigstoreGoVerify, 'sigstore-go-verify');
  const target = 'file' in artifact ? artifact.file : `sha256:${artifact.sha256}`;
  return verdict(run(binary, [bundlePath, trustedRootPath, publicKeyPath, target], { timeout: 30_000 }));
}
