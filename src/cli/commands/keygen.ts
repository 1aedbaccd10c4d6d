// slsa-ml keygen: a P-256 key pair as cosign generate-key-pair writes it, for `attest --key`, the
// operator's key signer, cosign and Tekton Chains, and `verify --key`. Never overwrites: an
// existing file is an error naming it.
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { generateSigningKeyPair } from '../../signing/index.ts';
import type { Command } from '../command.ts';
import { EXIT, InputError, UsageError } from '../errors.ts';
import { parseFlags, type ParsedFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { describeFsError, readUserFile } from '../local-files.ts';

const HELP = `Usage: slsa-ml keygen [--output-key-prefix NAME] [--password-file FILE | --no-password]

Writes a new ECDSA P-256 key pair for signing provenance, in cosign's format:
  NAME.key   private key encrypted with a password ("ENCRYPTED SIGSTORE PRIVATE KEY", as
             'cosign generate-key-pair' writes it), file mode 0600. Keep it and its password
             secret: mount both into the operator as a Secret (cosign.key + cosign.password, the
             layout of Tekton Chains' signing-secrets), or pass them to 'slsa-ml attest --key'
  NAME.pub   public key, SubjectPublicKeyInfo PEM (give it to verifiers: 'slsa-ml verify --key',
             'cosign verify-blob-attestation --key')
Refuses to overwrite either file.

The password is $COSIGN_PASSWORD (as for cosign), else the contents of --password-file (one
trailing newline ignored).

  --output-key-prefix NAME      path prefix of the two files (default "cosign")
  --password-file FILE          read the password from FILE
  --no-password                 no password: the empty one, as cosign writes for COSIGN_PASSWORD=""
                                (anyone who can read NAME.key can sign with it)
  -h, --help                    show this help

Exit codes: 0 written; 2 usage error (no password given), or a file already exists / cannot be
written.

Examples:
  COSIGN_PASSWORD='…' slsa-ml keygen
  slsa-ml keygen --output-key-prefix keys/provenance --password-file keys/password
  kubectl -n slsa-ml-system create secret generic slsa-ml-signing-key \\
      --from-file=cosign.key --from-file=cosign.password=keys/password
`;

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'write a new P-256 signing key pair (NAME.key, NAME.pub)',
  help: HELP,
  run: runKeygen,
};

const FLAGS = {
  'output-key-prefix': { type: 'string' },
  'password-file': { type: 'string' },
  'no-password': { type: 'boolean' },
} as const;

async function runKeygen(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])}`);
  const password = await passwordOf(flags, io);
  const prefix = resolve(io.cwd, flags.strings.get('output-key-prefix') ?? 'cosign');
  const privatePath = `${prefix}.key`;
  const publicPath = `${prefix}.pub`;
  // Check both first, so an existing .pub never leaves a fresh .key behind.
  for (const path of [privatePath, publicPath]) await refuseExisting(path);
  const pair = generateSigningKeyPair(password);
  await writeNew(privatePath, pair.privateKeyPem, 0o600);
  await writeNew(publicPath, pair.publicKeyPem, 0o644);
  io.stdout.write(`private key: ${privatePath}\npublic key:  ${publicPath}\n`);
  return EXIT.ok;
}

async function passwordOf(flags: ParsedFlags, io: CliIo): Promise<Uint8Array> {
  const file = flags.strings.get('password-file');
  const none = flags.booleans.has('no-password');
  if (file !== undefined && none) throw new UsageError('--password-file and --no-password cannot be used together');
  if (none) return new Uint8Array();
  if (file !== undefined) {
    const data = await readUserFile('--password-file', file, io, 64 * 1024);
    return data.at(-1) === 0x0a ? data.subarray(0, data.at(-2) === 0x0d ? -2 : -1) : data;
  }
  const env = io.env.COSIGN_PASSWORD;
  if (env !== undefined) return Buffer.from(env, 'utf8');
  throw new UsageError('the private key is encrypted with a password: set COSIGN_PASSWORD, or give --password-file FILE, or --no-password');
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
