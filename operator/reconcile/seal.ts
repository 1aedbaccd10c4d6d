// The operator's seal on the outcome it records: an HMAC-SHA256, keyed by a secret only the
// operator holds, over the TaskRun's UID and every outcome value. Anyone who can write TaskRun
// metadata (a tenant, or Tekton copying Task/Pipeline metadata onto the run) can copy our keys
// and values, but not produce a seal for another UID or other values, so the operator acts only
// on outcomes it recorded itself. Admission (manifests/base/admission-policy.yaml) keeps the
// keys off tenant objects in the first place; the seal does not depend on it.
//
// A seal names the installation that made it (`v2.<installation>.<mac>`, the name inside the MAC),
// so that an operator meeting another installation's outcome can say whose it is; the name is
// only a label: whether a seal is ours is decided by our keys alone.
import { createHash, createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { OutcomeValues } from './outcome.ts';

const VERSION = 'v2';
/** What operators before installation names wrote: `v1.<mac>`, still ours when our key made it. */
const LEGACY = 'v1';
const MIN_KEY_BYTES = 32;
const BASE64_LINE = 'base64:';
/** A DNS label, like the namespaces and names installations are known by. */
export const INSTALLATION_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class OutcomeSeal {
  /** As KeyObjects: a raw Buffer key is re-imported on every HMAC (every watch event is checked). */
  readonly #keys: readonly KeyObject[];
  readonly installation: string;

  /** `keys[0]` seals; every key verifies, so a rotated-out key keeps older seals valid. */
  constructor(keys: readonly Buffer[], installation: string) {
    if (keys.length === 0) throw new Error('an outcome seal needs at least one key');
    for (const key of keys) {
      if (key.length < MIN_KEY_BYTES) throw new Error(`an outcome seal key must have at least ${MIN_KEY_BYTES} bytes`);
    }
    if (!INSTALLATION_PATTERN.test(installation)) throw new Error(`installation name ${JSON.stringify(installation)} must be a DNS label (lower-case letters, digits and '-', at most 63)`);
    this.#keys = keys.map((key) => createSecretKey(key));
    this.installation = installation;
  }

  seal(uid: string, values: OutcomeValues): string {
    return `${VERSION}.${this.installation}.${mac(this.#keys[0] as KeyObject, [VERSION, this.installation], uid, values).toString('base64url')}`;
  }

  /** True only when `seal` is ours for exactly this UID and these values. */
  verify(uid: string, values: OutcomeValues, seal: string | undefined): boolean {
    const parsed = parseSeal(seal);
    if (!parsed) return false;
    const prefix = parsed.installation === undefined ? [LEGACY] : [VERSION, parsed.installation];
    const given = Buffer.from(parsed.mac, 'base64url');
    return this.#keys.some((key) => {
      const want = mac(key, prefix, uid, values);
      return given.length === want.length && timingSafeEqual(given, want);
    });
  }
}

/**
 * What a seal says about its maker, before anyone checks it: the installation it names
 * (`undefined` for a legacy v1 seal, which names none). undefined when it is not a seal at all.
 */
export function parseSeal(seal: string | undefined): { installation: string | undefined; mac: string } | undefined {
  if (seal === undefined) return undefined;
  const parts = seal.split('.');
  if (parts.length === 2 && parts[0] === LEGACY && parts[1] !== '') return { installation: undefined, mac: parts[1] as string };
  if (parts.length === 3 && parts[0] === VERSION && INSTALLATION_PATTERN.test(parts[1] as string) && parts[2] !== '') {
    return { installation: parts[1] as string, mac: parts[2] as string };
  }
  return undefined;
}

/**
 * Seal keys from a key file: one key per non-empty line, the first one current. A line is used as
 * it is (its UTF-8 bytes), except `base64:<data>`, which is decoded (what `slsa-ml seal-key` prints).
 */
export function sealKeysFromFile(contents: string): Buffer[] {
  return contents.split('\n').map((line) => line.trim()).filter((line) => line !== '').map(keyFromLine);
}

function keyFromLine(line: string): Buffer {
  if (!line.startsWith(BASE64_LINE)) return Buffer.from(line, 'utf8');
  const data = line.slice(BASE64_LINE.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new Error(`a ${BASE64_LINE} line of the seal key file is not base64`);
  return Buffer.from(data, 'base64');
}

/** A seal key derived from signing-key material, for installations without a separate seal secret. */
export function sealKeyFromSigningKey(privateKeyDer: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', privateKeyDer, Buffer.alloc(0), 'slsa-ml outcome seal v1', 32));
}

/** The seal key derived from a signing key, as one line of a seal key file (`slsa-ml seal-key`). */
export function sealKeyLine(privateKeyDer: Buffer): string {
  return `${BASE64_LINE}${sealKeyFromSigningKey(privateKeyDer).toString('base64')}`;
}

/**
 * An installation's default name: from its builder id, which differs between installations that
 * are told apart in their provenance and stays the same when any key is rotated.
 */
export function defaultInstallationName(builderId: string): string {
  return `b${createHash('sha256').update(builderId).digest('hex').slice(0, 10)}`;
}

function mac(key: KeyObject, prefix: readonly string[], uid: string, values: OutcomeValues): Buffer {
  // JSON of a fixed-order array: unambiguous, whatever characters the values hold.
  // The log entries only when there are any: seals made before they existed keep verifying.
  const message = JSON.stringify([...prefix, uid, values.signed, values.label, values.bundle ?? null, values.reason ?? null, ...(values.transparency === undefined ? [] : [values.transparency])]);
  return createHmac('sha256', key).update(message).digest();
}
