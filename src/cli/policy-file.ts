// --policy FILE: the policy's rules from a YAML file (src/policy), a mistake refused as a usage
// error naming the file and the key. A value that holds YAML itself (a line break, or a flow
// mapping `{…}`) is the policy: what a cluster-scoped ClusterStorageContainer can carry in a literal
// SLSA_ML_PULL_POLICY, where a mounted file would come from the model deployer's namespace. No path
// holds a line break or begins with `{`. Whom to trust is never read from the file.
import { PolicyError, parsePolicy, type PolicyDocument } from '../policy/index.ts';
import { UsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { readUserFile } from './local-files.ts';

const MAX_POLICY_BYTES = 1024 * 1024;

export async function readPolicyFile(value: string, io: CliIo, flag = '--policy'): Promise<PolicyDocument> {
  const inline = value.includes('\n') || value.trimStart().startsWith('{');
  const text = inline ? value : (await readUserFile(flag, value, io, MAX_POLICY_BYTES)).toString('utf8');
  try {
    return parsePolicy(text, inline ? '(inline)' : value);
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(err.message, { code: err.code, cause: err });
    throw err;
  }
}
