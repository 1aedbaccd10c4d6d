// ECDSA P-256 signing of a digest the caller already computed, as Cloud KMS does for
// asymmetricSign. Node's crypto only signs messages (it always hashes), so the stand-in KMS does
// the curve arithmetic itself. Test-only: not constant time.
import { randomBytes, type KeyObject } from 'node:crypto';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];

type Point = readonly [bigint, bigint] | null;

/** DER ECDSA signature of a 32-byte SHA-256 digest with a P-256 private key. */
export function signDigest(privateKey: KeyObject, digest: Buffer): Buffer {
  const d = toBigInt(Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url'));
  const z = toBigInt(digest);
  for (;;) {
    const k = (toBigInt(randomBytes(40)) % (N - 1n)) + 1n;
    const point = multiply(k, G);
    if (!point) continue;
    const r = point[0] % N;
    const s = (inverse(k, N) * (z + r * d)) % N;
    if (r !== 0n && s !== 0n) return der(r, s);
  }
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(a: Point, b: Point): Point {
  if (!a) return b;
  if (!b) return a;
  if (a[0] === b[0] && mod(a[1] + b[1], P) === 0n) return null;
  const slope = a[0] === b[0] && a[1] === b[1]
    ? mod((3n * a[0] * a[0] - 3n) * inverse(2n * a[1], P), P)
    : mod((b[1] - a[1]) * inverse(b[0] - a[0], P), P);
  const x = mod(slope * slope - a[0] - b[0], P);
  return [x, mod(slope * (a[0] - x) - a[1], P)];
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let n = k; n > 0n; n >>= 1n) {
    if (n & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

function toBigInt(bytes: Buffer): bigint {
  return BigInt('0x' + (bytes.toString('hex') || '0'));
}

function der(r: bigint, s: bigint): Buffer {
  const int = (v: bigint): Buffer => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    let bytes = Buffer.from(hex, 'hex');
    if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
