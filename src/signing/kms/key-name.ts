// `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N` (the form cosign
// uses) to the Cloud KMS resource name. A key, not a key version, is refused: signatures must
// be attributable to one version whose public key can be fetched later.
import { SigningError } from '../errors.ts';

const SCHEME = 'gcpkms://';
const PATTERN = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/\d+$/;

export function kmsResourceName(keyName: string): string {
  const name = keyName.startsWith(SCHEME) ? keyName.slice(SCHEME.length) : '';
  if (!PATTERN.test(name)) {
    throw new SigningError({
      code: 'KMS_KEY_NAME_INVALID',
      message: `KMS key must be named ${SCHEME}projects/…/locations/…/keyRings/…/cryptoKeys/…/cryptoKeyVersions/N, got ${JSON.stringify(keyName)}`,
    });
  }
  return name;
}
