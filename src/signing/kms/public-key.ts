// The PEM public key of a Cloud KMS key version. The KMS client (google-gax, ~40 MB resident)
// is loaded only when a KMS key is actually used.
import { kmsResourceName } from './key-name.ts';

export async function fetchKmsPublicKey(keyName: string, apiEndpoint?: string): Promise<string> {
  const { KmsClient } = await import('./client.ts');
  const client = new KmsClient(apiEndpoint);
  try {
    return (await client.getPublicKey(kmsResourceName(keyName))).pem;
  } finally {
    await client.close();
  }
}
