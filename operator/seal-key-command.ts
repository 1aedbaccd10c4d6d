// `slsa-ml seal-key`: prints the outcome seal key an operator derives from its signing key (kind
// `key` without seal.keyPath), as one line of a seal key file. Mounted as seal.keyPath before the
// signing key is rotated, it keeps every outcome sealed so far valid: rotating the signing key then
// changes nothing already recorded. Part of the operator (it knows how the seal is derived), not of
// the user-facing CLI.
import { parseArgs } from 'node:util';
import { parsePrivateKey, readSigningKey } from '../src/signing/index.ts';
import { sealKeyLine } from './reconcile/seal.ts';

export const SEAL_KEY_HELP = `Usage: slsa-ml seal-key --key FILE [--password-file FILE]

Prints, as one line of a seal key file, the outcome seal key that an operator signing with FILE
derives when seal.keyPath is not set. Keep it as secret as the signing key. Before rotating that
signing key, put this line in a Secret and set seal.keyPath to it (docs/operator.md, "Rotating keys").

  --key FILE             the signing key: a PEM or cosign-encrypted key, or a Tekton Chains
                         signing-secrets directory (password from $COSIGN_PASSWORD or --password-file)
  --password-file FILE   the key's password`;

export async function runSealKey(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  let values: { key?: string | undefined; 'password-file'?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args: [...args], options: { key: { type: 'string' }, 'password-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    return { code: 2, out: `slsa-ml seal-key: ${(err as Error).message}` };
  }
  if (values.help) return { code: 0, out: SEAL_KEY_HELP };
  if (values.key === undefined) return { code: 2, out: 'slsa-ml seal-key: --key is required: the signing key the operator derives its seal key from' };
  try {
    const passwordFile = values['password-file'];
    const key = await readSigningKey({ path: values.key, ...(passwordFile ? { passwordFile } : {}), env });
    const der = parsePrivateKey(key.keyPem, key.password).export({ type: 'pkcs8', format: 'der' });
    return { code: 0, out: sealKeyLine(der) };
  } catch (err) {
    return { code: 1, out: `slsa-ml seal-key: ${(err as Error).message.split('\n')[0] ?? ''}` };
  }
}
