// Where a signing key comes from on disk: one PEM file, or a directory laid out as Tekton Chains'
// `signing-secrets` Secret is when mounted (x509.pem, else cosign.key with cosign.password), so a
// platform moving from Chains mounts the same Secret. The password of an encrypted key comes from
// an explicit password file, else $COSIGN_PASSWORD (as for cosign), else the directory's cosign.password.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { SigningError } from '../errors.ts';
import { firstCause } from '../first-cause.ts';

export interface SigningKeySource {
  /** A PEM file, or a directory holding x509.pem or cosign.key (+ cosign.password). */
  readonly path: string;
  /** A file holding the key's password; one trailing newline is ignored. */
  readonly passwordFile?: string;
  /** Where COSIGN_PASSWORD is read from (process.env in the operator and CLI). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The `key` signer configuration for createSigner: `{kind: 'key', keyPem, password?}`. */
export interface KeySignerConfig {
  kind: 'key';
  keyPem: string;
  password?: Uint8Array;
}

const MAX_KEY_BYTES = 64 * 1024;

export async function readSigningKey(source: SigningKeySource): Promise<KeySignerConfig> {
  const directory = await isDirectory(source.path);
  const keyPath = directory ? await chainsKeyFile(source.path) : source.path;
  const keyPem = (await readSmall(keyPath, 'signing key')).toString('utf8');
  const password = await passwordFor(source, directory ? join(source.path, 'cosign.password') : undefined);
  return password === undefined ? { kind: 'key', keyPem } : { kind: 'key', keyPem, password };
}

// Chains tries x509.pem before cosign.key; so do we.
async function chainsKeyFile(dir: string): Promise<string> {
  for (const name of ['x509.pem', 'cosign.key']) {
    const path = join(dir, name);
    if (await exists(path)) return path;
  }
  throw new SigningError({ code: 'KEY_UNREADABLE', message: `${dir} holds neither x509.pem nor cosign.key (the files of a Tekton Chains signing-secrets Secret)` });
}

async function passwordFor(source: SigningKeySource, directoryPassword: string | undefined): Promise<Uint8Array | undefined> {
  if (source.passwordFile !== undefined) return withoutNewline(await readSmall(source.passwordFile, 'key password file'));
  const env = source.env?.COSIGN_PASSWORD;
  if (env !== undefined) return Buffer.from(env, 'utf8');
  if (directoryPassword !== undefined && (await exists(directoryPassword))) return withoutNewline(await readSmall(directoryPassword, 'key password file'));
  return undefined;
}

// `echo secret > cosign.password` adds a newline the password never had.
function withoutNewline(data: Buffer): Buffer {
  if (data.at(-1) !== 0x0a) return data;
  return data.subarray(0, data.at(-2) === 0x0d ? -2 : -1);
}

async function readSmall(path: string, what: string): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a file');
    if (st.size > MAX_KEY_BYTES) throw new Error(`larger than ${MAX_KEY_BYTES} bytes`);
    return await readFile(path);
  } catch (cause) {
    throw new SigningError({ code: 'KEY_UNREADABLE', message: `cannot read ${what} ${path}: ${firstCause(cause)}`, cause });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
