// Verifiers we did not write, run as the tests' judges: cosign v2.6 and securesystemslib.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export async function cosignVerifyBlobAttestation(publicKeyPath: string, input: CosignInput, artifact: CosignArtifact): Promise<ToolVerdict> {
  const cosign = requireTool(toolPaths().cosign, 'cosign');
  const scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cosign-'));
  try {
    const argv = ['verify-blob-attestation', '--key', publicKeyPath, '--type', 'slsaprovenance1', '--insecure-ignore-tlog'];
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
