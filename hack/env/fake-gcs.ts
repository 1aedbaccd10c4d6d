// fake-gcs-server: the GCS JSON API on loopback, in memory (flags per TEST-ENVIRONMENT.md).
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startDetached, waitReady, type Started } from './processes.ts';

export interface FakeGcsHandle extends Started {
  readonly endpoint: string;
}

export async function startFakeGcs(binary: string, stateDir: string): Promise<FakeGcsHandle> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = startDetached('fake-gcs-server', binary, [
    '-backend', 'memory',
    '-scheme', 'http',
    '-host', '127.0.0.1',
    '-port', String(port),
    '-external-url', endpoint,
    '-public-host', `127.0.0.1:${port}`,
    '-log-level', 'warn',
  ], join(stateDir, 'fake-gcs-server.log'));
  await waitReady(proc, async () => (await fetch(`${endpoint}/storage/v1/b`)).ok, 30_000);
  return { ...proc, endpoint };
}

/** Creates a bucket through the GCS JSON API (fake-gcs-server accepts any project). */
export async function createBucket(endpoint: string, name: string, project: string): Promise<void> {
  const res = await fetch(`${endpoint}/storage/v1/b?project=${encodeURIComponent(project)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) throw new Error(`fake-gcs-server: creating bucket ${name} failed: ${res.status} ${await res.text()}`);
}
