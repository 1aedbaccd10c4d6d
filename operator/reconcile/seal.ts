// The operator's seal on the outcome it records: an HMAC-SHA256, keyed by a secret only the
// operator holds, over the TaskRun's UID and every outcome value. Anyone who can write TaskRun
// metadata (a tenant, or Tekton copying Task/Pipeline metadata onto the run) can copy our keys
// and values, but not produce a seal for another UID or other values, so the operator acts only
// on outcomes it recorded itself. Admission (manifests/base/admission-policy.yaml) keeps the
// keys off tenant objects in the first place; the seal does not depend on it.
import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { OutcomeValues } from './outcome.ts';

const VERSION = 'v1';
const MIN_KEY_BYTES = 32;

export class OutcomeSeal {
  /** As KeyObjects: a raw Buffer key is re-imported on every HMAC (every watch event is checked). */
  readonly #keys: readonly KeyObject[];

  /** `keys[0]` seals; every key verifies, so a rotated-out key keeps older seals valid. */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('an outcome seal needs at least one key');
    for (const key of keys) {
      if (key.length < MIN_KEY_BYTES) throw new Error(`an outcome seal key must have at least ${MIN_KEY_BYTES} bytes`);
    }
    this.#keys = keys.map((key) => createSecretKey(key));
  }

  seal(uid: string, values: OutcomeValues): string {
    return `${VERSION}.${mac(this.#keys[0] as KeyObject, uid, values).toString('base64url')}`;
  }

  /** True only when `seal` is ours for exactly this UID and these values. */
  verify(uid: string, values: OutcomeValues, seal: string | undefined): boolean {
    if (seal === undefined || !seal.startsWith(`${VERSION}.`)) return false;
    const given = Buffer.from(seal.slice(VERSION.length + 1), 'base64url');
    return this.#keys.some((key) => {
      const want = mac(key, uid, values);
      return given.length === want.length && timingSafeEqual(given, want);
    });
  }
}

/** Seal keys from a key file: one key per non-empty line (base64 or text), the first one current. */
export function sealKeysFromFile(contents: string): Buffer[] {
  return contents.split('\n').map((line) => line.trim()).filter((line) => line !== '').map((line) => Buffer.from(line, 'utf8'));
}

/** A seal key derived from signing-key material, for installations without a separate seal secret. */
export function sealKeyFromSigningKey(privateKeyDer: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', privateKeyDer, Buffer.alloc(0), 'slsa-ml outcome seal v1', 32));
}

function mac(key: KeyObject, uid: string, values: OutcomeValues): Buffer {
  // JSON of a fixed-order array: unambiguous, whatever characters the values hold.
  const message = JSON.stringify([VERSION, uid, values.signed, values.label, values.bundle ?? null, values.reason ?? null]);
  return createHmac('sha256', key).update(message).digest();
}
