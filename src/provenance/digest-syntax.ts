// "<algorithm>:<hex>" digests as Tekton Chains parses them (artifacts.ParseDigest with go-digest):
// algorithm case-insensitive, surrounding spaces ignored, hex lowercase and of the algorithm's length.

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512' | 'sha1';

export interface HintDigest<A extends DigestAlgorithm = DigestAlgorithm> {
  algorithm: A;
  hex: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 };

export type ParsedDigest = { ok: true; digest: HintDigest } | { ok: false; reason: string };

export function parseDigest(text: string): ParsedDigest {
  const parts = text.split(':');
  if (parts.length !== 2) {
    return { ok: false, reason: `digest ${JSON.stringify(text)} is not in the form <algorithm>:<hex>` };
  }
  const algorithm = (parts[0] ?? '').trim().toLowerCase();
  const hex = (parts[1] ?? '').trim();
  if (!isAlgorithm(algorithm)) {
    return { ok: false, reason: `digest algorithm ${JSON.stringify(algorithm)} is not one of sha256, sha384, sha512, sha1` };
  }
  const length = HEX_LENGTH[algorithm];
  if (!new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) {
    return { ok: false, reason: `${algorithm} digest must be ${length} lowercase hex characters` };
  }
  return { ok: true, digest: { algorithm, hex } };
}

function isAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(HEX_LENGTH, name);
}

export function isSha256Hex(hex: string): boolean {
  return /^[0-9a-f]{64}$/.test(hex);
}
