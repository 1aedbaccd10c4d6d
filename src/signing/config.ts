// The one place that turns configuration into a Signer. Each kind is a KeyHolder wrapped by
// the DSSE signer; keyless adds Fulcio around the key and Rekor as a witness.
import { requestTimeout } from './deadline.ts';
import { DsseSigner } from './dsse-signer.ts';
import { SigningError } from './errors.ts';
import type { KmsKeyHolder } from './kms/key-holder.ts';
import { kmsResourceName } from './kms/key-name.ts';
import { LocalKeyHolder } from './local-key.ts';
import type { IdentityTokenProvider } from './sigstore/tokens.ts';
import type { Signer } from './signer.ts';
import { RekorV2Witness } from './transparency/rekor-v2-witness.ts';

interface CommonConfig {
  /**
   * Deadline in milliseconds of each request the signer makes (Cloud KMS, Fulcio, Rekor, the
   * identity-token source); default 30 000 (DEFAULT_REQUEST_TIMEOUT_MS).
   */
  requestTimeoutMs?: number;
  /**
   * A Rekor v2 log (rekor-tiles) to record every key or KMS signature in before the bundle is
   * returned; the bundle then carries the entry. Absent: no log (keyless always logs, in its own Rekor).
   */
  transparency?: { rekorV2URL: string };
}

export type SignerConfig = CommonConfig &
  (
    | {
        kind: 'key';
        /** A PEM private key: PKCS#8, SEC1, or cosign's encrypted format (then `password` decrypts it). */
        keyPem: string;
        password?: Uint8Array | string;
      }
    | { kind: 'kms'; keyName: string; apiEndpoint?: string }
    | { kind: 'sigstore'; fulcioURL: string; rekorURL: string; identityToken: IdentityTokenProvider }
  );

export async function createSigner(config: SignerConfig): Promise<Signer> {
  const timeoutMs = requestTimeout(config.requestTimeoutMs);
  switch (config.kind) {
    case 'key':
      return new DsseSigner({ keyHolder: new LocalKeyHolder(config.keyPem, config.password), witnesses: logWitnesses(config, timeoutMs) });
    case 'kms':
      return new DsseSigner({ keyHolder: await kmsKeyHolder(config.keyName, config.apiEndpoint, timeoutMs), witnesses: logWitnesses(config, timeoutMs) });
    case 'sigstore': {
      // Loaded on demand: @sigstore/sign's Fulcio and Rekor clients (and their HTTP stack) are
      // most of a key signer's start-up time, and it never uses them.
      const { keylessSigner } = await import('./sigstore/keyless.ts');
      return keylessSigner({ ...config, requestTimeoutMs: timeoutMs });
    }
    default:
      throw new SigningError({ code: 'SIGNER_KIND_UNKNOWN', message: `unknown signer kind ${JSON.stringify((config as { kind?: unknown }).kind)}` });
  }
}

function logWitnesses(config: CommonConfig, timeoutMs: number): RekorV2Witness[] {
  return config.transparency ? [new RekorV2Witness({ url: config.transparency.rekorV2URL, timeoutMs })] : [];
}

async function kmsKeyHolder(keyName: string, apiEndpoint: string | undefined, timeoutMs: number): Promise<KmsKeyHolder> {
  const name = kmsResourceName(keyName);
  // Loaded on demand: the KMS client library costs ~40 MB of memory that a key signer never needs.
  const [{ KmsClient }, { KmsKeyHolder }] = await Promise.all([import('./kms/client.ts'), import('./kms/key-holder.ts')]);
  const client = new KmsClient(apiEndpoint, { timeoutMs });
  try {
    return await KmsKeyHolder.create(client, name);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
}
