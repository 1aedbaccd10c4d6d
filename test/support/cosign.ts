// Runs the real cosign v2.6 verifier offline against our output.
//  - bundles: cosign 2.6 takes its new-bundle path, which needs a trusted root; for key-signed
//    bundles a trusted root with no authorities is enough (checked with cosign v2.6.4).
//  - envelopes (--signature): cosign would try to fetch Sigstore's TUF root over the network;
//    naming a Rekor public key in SIGSTORE_REKOR_PUBLIC_KEY makes it skip that fetch.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';

const run = promisify(execFile);

export interface CosignVerify {
  readonly publicKeyPath: string;
  readonly bundlePath?: string;
  readonly envelopePath?: string;
  /** A local file model, or the sha256 hex of a directory model's root digest. */
  readonly artifact: { file: string } | { sha256: string };
}

export interface CosignResult {
  readonly ok: boolean;
  readonly output: string;
}

export async function cosignVerifyAttestation(args: CosignVerify): Promise<CosignResult> {
  const cosign = requireTool(toolPaths().cosign, 'cosign');
  const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-cosign-'));
  const argv = ['verify-blob-attestation', '--key', args.publicKeyPath, '--type', 'slsaprovenance1', '--insecure-ignore-tlog'];
  if (args.bundlePath) {
    const trustedRoot = join(dir, 'trusted-root.json');
    writeFileSync(trustedRoot, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }));
    argv.push('--bundle', args.bundlePath, '--new-bundle-format', '--trusted-root', trustedRoot);
  }
  if (args.envelopePath) argv.push('--signature', args.envelopePath);
  if ('file' in args.artifact) argv.push(args.artifact.file);
  else argv.push('--digest', args.artifact.sha256, '--digestAlg', 'sha256');
  const env = { PATH: process.env.PATH ?? '', HOME: dir, TUF_ROOT: join(dir, 'tuf'), SIGSTORE_REKOR_PUBLIC_KEY: args.publicKeyPath };
  try {
    const { stdout, stderr } = await run(cosign, argv, { env });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
