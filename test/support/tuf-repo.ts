// A TUF repository on localhost, as Sigstore publishes its trust material: root, targets, snapshot
// and timestamp metadata signed with one Ed25519 key (signatures over canonical JSON, as the TUF
// specification has them), serving the targets given (e.g. signing_config.v0.2.json). What a
// client of Sigstore's public TUF repository meets, without the network; the client is the real
// @sigstore/tuf (tuf-js), which checks every signature, hash, length and expiry.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TufRepo {
  readonly url: string;
  /** The initial root.json a client is given (trust on first use of nothing). */
  readonly rootPath: string;
  close(): void;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** TUF's canonical JSON for the ASCII metadata made here: keys sorted, no whitespace. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export async function startTufRepo(dir: string, targets: Readonly<Record<string, string>>): Promise<TufRepo> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const key: Json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  const keyid = createHash('sha256').update(canonical(key)).digest('hex');
  const expires = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const common = { spec_version: '1.0.31', version: 1, expires };
  const role = { keyids: [keyid], threshold: 1 };
  const signed = (body: { [key: string]: Json }): string => JSON.stringify({
    signed: body,
    signatures: [{ keyid, sig: sign(null, Buffer.from(canonical(body)), privateKey).toString('hex') }],
  });
  const files = new Map<string, string>();
  files.set('/1.root.json', signed({ _type: 'root', ...common, consistent_snapshot: false, keys: { [keyid]: key }, roles: { root: role, targets: role, snapshot: role, timestamp: role } }));
  const targetMeta: { [name: string]: Json } = {};
  for (const [name, content] of Object.entries(targets)) {
    files.set(`/targets/${name}`, content);
    targetMeta[name] = { length: Buffer.byteLength(content), hashes: { sha256: createHash('sha256').update(content).digest('hex') } };
  }
  files.set('/targets.json', signed({ _type: 'targets', ...common, targets: targetMeta }));
  files.set('/snapshot.json', signed({ _type: 'snapshot', ...common, meta: { 'targets.json': { version: 1 } } }));
  files.set('/timestamp.json', signed({ _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 1 } } }));
  mkdirSync(dir, { recursive: true });
  const rootPath = join(dir, 'root.json');
  writeFileSync(rootPath, files.get('/1.root.json') ?? '');
  const server: Server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, rootPath, close: () => { server.closeAllConnections(); server.close(); } };
}
