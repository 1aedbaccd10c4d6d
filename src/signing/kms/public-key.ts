// The PEM public key of a Cloud KMS key version. The KMS client (google-gax, ~40 MB resident)
// is loaded only when a KMS key is actually used.
import type { KmsClientOptions } from './client.ts';
import { kmsResourceName } from './key-name.ts';

export async function fetchKmsPublicKey(keyName: string, apiEndpoint?: string, options: KmsClientOptions = {}): Promise<string> {
  const { KmsClient } = await import('./client.ts');
  const client = new KmsClient(apiEndpoint, options);
  try {
    return (await client.getPublicKey(kmsResourceName(keyName))).pem;
  } finally {
    await client.close();
  }
}
