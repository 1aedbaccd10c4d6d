// --kms and --kms-endpoint, shared by the signer flags (attest) and the trust flags (verify, query).
import { kmsResourceName } from '../signing/index.ts';
import { UsageError } from './errors.ts';
import { checkEndpoint } from './storage-flags.ts';

export interface KmsKeyFlags {
  kind: 'kms';
  keyName: string;
  apiEndpoint?: string;
}

export function kmsKeyFromFlags(keyName: string, endpoint: string | undefined): KmsKeyFlags {
  try {
    kmsResourceName(keyName);
  } catch (err) {
    throw new UsageError(`--kms: ${(err as Error).message}`, { cause: err });
  }
  if (endpoint !== undefined) checkEndpoint('--kms-endpoint', endpoint);
  return endpoint === undefined ? { kind: 'kms', keyName } : { kind: 'kms', keyName, apiEndpoint: endpoint };
}
