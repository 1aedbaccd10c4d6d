// slsa-ml keygen: a P-256 key pair for `attest --key` / the operator's key signer and for
// `verify --key` / cosign. Never overwrites: an existing file is an error naming it.
import { generateKeyPairSync } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import type { Command } from '../command.ts';
import { EXIT, InputError, UsageError } from '../errors.ts';
import { parseFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { describeFsError } from '../local-files.ts';

const HELP = `Usage: slsa-ml keygen [--output-key-prefix NAME]

Writes a new ECDSA P-256 key pair for signing provenance:
  NAME.key   private key, PKCS#8 PEM, unencrypted, file mode 0600 (keep it secret: mount it
             into the operator as a Secret, or pass it to 'slsa-ml attest --key')
  NAME.pub   public key, SubjectPublicKeyInfo PEM (give it to verifiers: 'slsa-ml verify --key',
             'cosign verify-blob-attestation --key')
Refuses to overwrite either file.

  --output-key-prefix NAME      path prefix of the two files (default "cosign")
  -h, --help                    show this help

Exit codes: 0 written; 2 usage error or a file already exists / cannot be written.

Examples:
  slsa-ml keygen
  slsa-ml keygen --output-key-prefix keys/provenance
  kubectl -n slsa-ml-system create secret generic slsa-ml-signing-key --from-file=cosign.key
`;

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'write a new P-256 signing key pair (NAME.key, NAME.pub)',
  help: HELP,
  run: runKeygen,
};

async function runKeygen(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, { 'output-key-prefix': { type: 'string' } });
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])}`);
  const prefix = resolve(io.cwd, flags.strings.get('output-key-prefix') ?? 'cosign');
  const privatePath = `${prefix}.key`;
  const publicPath = `${prefix}.pub`;
  // Check both first, so an existing .pub never leaves a fresh .key behind.
  for (const path of [privatePath, publicPath]) await refuseExisting(path);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeNew(privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  await writeNew(publicPath, publicKey.export({ format: 'pem', type: 'spki' }).toString(), 0o644);
  io.stdout.write(`private key: ${privatePath}\npublic key:  ${publicPath}\n`);
  return EXIT.ok;
}

async function refuseExisting(path: string): Promise<void> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists) throw new InputError('KEY_EXISTS', `${path} already exists; not overwriting it (choose another --output-key-prefix)`);
}

// "wx": create-only, so a file appearing between the check and the write is not clobbered either.
async function writeNew(path: string, content: string, mode: number): Promise<void> {
  try {
    const file = await open(path, 'wx', mode);
    try {
      await file.writeFile(content);
      await file.chmod(mode);
    } finally {
      await file.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError('KEY_EXISTS', `${path} already exists; not overwriting it`, { cause: err });
    throw new InputError('KEY_WRITE_FAILED', `cannot write ${path}: ${describeFsError(err)}`, { cause: err });
  }
}
