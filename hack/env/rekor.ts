// A real Rekor v2 transparency log: rekor-tiles' server with its POSIX storage (hack/install-tools.sh
// rekor), its own ECDSA P-256 log key, and a Sigstore trusted root that names it — what a private
// instance's operators publish for their clients. It needs nothing beside itself (no database, no
// witness); reads (tiles) would be static files of its storage directory, which neither signing nor
// verifying uses: the bundle carries the proof and the checkpoint.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answersOk } from './health.ts';
import { freePorts } from './ports.ts';
import { startDetached, waitReady, type Started } from './processes.ts';

export interface RekorHandle extends Started {
  /** The log's URL as clients name it; its host is the checkpoint's origin, which verifiers match. */
  readonly url: string;
  readonly publicKeyPem: string;
  /** A trusted_root.json naming only this log (cosign --trusted-root, slsa-ml verify --trusted-root). */
  readonly trustedRootPath: string;
  readonly trustedRoot: Readonly<Record<string, unknown>>;
}

/** The hostname rekor-tiles signs its checkpoints as; verifiers require the trusted root's baseUrl to have it. */
const ORIGIN = 'localhost';

export async function startRekor(binary: string, stateDir: string): Promise<RekorHandle> {
  const dir = join(stateDir, 'rekor');
  mkdirSync(join(dir, 'tiles'), { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPath = join(dir, 'log.key');
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  // rekor-tiles refuses port 0 for HTTP and gRPC: free ports chosen here.
  const [http = 0, grpc = 0] = await freePorts(2);
  const proc = startDetached('rekor', binary, [
    'serve',
    `--hostname=${ORIGIN}`,
    `--storage-dir=${join(dir, 'tiles')}`,
    `--signer-filepath=${keyPath}`,
    // An entry is answered once a checkpoint covers it (the server looks every second): 500 ms
    // keeps a signature about a second, as on the public instance.
    '--checkpoint-interval=500ms',
    '--http-address=127.0.0.1', `--http-port=${http}`,
    '--grpc-address=127.0.0.1', `--grpc-port=${grpc}`,
    '--http-metrics-port=0',
  ], join(stateDir, 'rekor.log'), { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir });
  await waitReady(proc, () => answersOk(`http://127.0.0.1:${http}/healthz`), 30_000);
  const url = `http://${ORIGIN}:${http}`;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: spki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: new Date(Date.now() - 3_600_000).toISOString() } },
      // An ECDSA log's checkpoint key ID is the SHA-256 of its PKIX key, as Rekor v1 log IDs (C2SP
      // signed-note's special case; an Ed25519 log's would hash the origin in).
      logId: { keyId: createHash('sha256').update(spki).digest('base64') },
    }],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
  const trustedRootPath = join(dir, 'trusted_root.json');
  writeFileSync(trustedRootPath, JSON.stringify(trustedRoot, null, 2));
  return { ...proc, url, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), trustedRootPath, trustedRoot };
}
