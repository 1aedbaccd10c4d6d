// The same provenance checked by a verifier we did not write: cosign v2.6 (built by
// hack/install-tools.sh), on the model and its .intoto.jsonl downloaded from the bucket.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toolPaths } from '../env/tools.ts';
import type { TestEnv } from '../../test/harness/index.ts';
import { cosignVerifyBlobAttestation } from '../../test/support/signing-verifiers.ts';
import { detail, say } from './say.ts';

// A plain JSON-API media download: @google-cloud/storage's reader (teeny-request) prints a
// MaxListenersExceededWarning on Node 24 for a half-megabyte object, which would only confuse here.
export async function downloadObject(env: TestEnv, uri: string): Promise<Buffer> {
  const name = uri.slice(`gs://${env.bucket}/`.length);
  const res = await fetch(`${env.gcsEndpoint}/download/storage/v1/b/${env.bucket}/o/${encodeURIComponent(name)}?alt=media`);
  if (!res.ok) throw new Error(`downloading ${uri}: ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

async function download(env: TestEnv, uri: string, dir: string): Promise<string> {
  const path = join(dir, uri.split('/').pop() ?? 'object');
  await writeFile(path, await downloadObject(env, uri));
  return path;
}

/** True when cosign verified, false when it refused, undefined when cosign is not built. */
export async function cosignVerify(env: TestEnv, publicKeyPath: string, modelUri: string, dir: string): Promise<boolean | undefined> {
  if (!existsSync(toolPaths().cosign)) {
    say('   cosign is not built here (`bash hack/install-tools.sh cosign`); skipping this cross-check');
    return undefined;
  }
  const model = await download(env, modelUri, dir);
  const envelope = await download(env, `${modelUri}.intoto.jsonl`, dir);
  detail('downloaded', `${model}, ${envelope}`);
  say(`   $ cosign verify-blob-attestation --key ${publicKeyPath} --type slsaprovenance1 --insecure-ignore-tlog \\`);
  say(`       --signature ${envelope} ${model}`);
  const verdict = await cosignVerifyBlobAttestation(publicKeyPath, { envelope }, { file: model });
  for (const line of verdict.output.trim().split('\n')) say(`   | ${line}`);
  return verdict.ok;
}
