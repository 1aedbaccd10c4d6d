// The signer section is a variant: its kind decides which keys are required and which are
// refused (a keyName under kind `key` is a mistake, not something to ignore).
import { absolutePath, absoluteUri, endpoint, httpUrl, kmsKeyVersion, nonEmpty } from './checks.ts';
import type { Fields } from './fields.ts';
import type { KeylessVerification, SignerSettings, TokenSource } from './types.ts';

const SIGNER_KEYS: Record<SignerSettings['kind'], readonly string[]> = {
  key: ['kind', 'keyPath', 'passwordPath'],
  kms: ['kind', 'keyName', 'apiEndpoint'],
  sigstore: ['kind', 'fulcioURL', 'rekorURL', 'token', 'identity', 'oidcIssuer', 'trustedRootPath'],
};
const TOKEN_KEYS: Record<TokenSource['kind'], readonly string[]> = {
  file: ['kind', 'path'],
  'gce-metadata': ['kind', 'audience'],
};

export function buildSigner(f: Fields): SignerSettings {
  const kind = oneOf(f, 'signer.kind', SIGNER_KEYS);
  onlyKeys(f, 'signer', kind, SIGNER_KEYS[kind]);
  switch (kind) {
    case 'key': {
      const passwordPath = f.optionalString('signer.passwordPath', absolutePath);
      return { kind, keyPath: f.string('signer.keyPath', nonEmpty), ...(passwordPath === undefined ? {} : { passwordPath }) };
    }
    case 'kms': {
      const apiEndpoint = f.optionalString('signer.apiEndpoint', endpoint);
      return { kind, keyName: f.string('signer.keyName', kmsKeyVersion), ...(apiEndpoint === undefined ? {} : { apiEndpoint }) };
    }
    case 'sigstore': {
      const verification = buildKeylessVerification(f);
      return {
        kind,
        fulcioURL: f.string('signer.fulcioURL', httpUrl),
        rekorURL: f.string('signer.rekorURL', httpUrl),
        token: buildToken(f),
        ...(verification ? { verification } : {}),
      };
    }
  }
}

/** All three or none: without them no earlier keyless attempt can be recognised as ours. */
function buildKeylessVerification(f: Fields): KeylessVerification | undefined {
  const fields = ['identity', 'oidcIssuer', 'trustedRootPath'] as const;
  const set = fields.filter((k) => f.optionalString(`signer.${k}`) !== undefined);
  if (set.length === 0) return undefined;
  const missing = fields.find((k) => !set.includes(k));
  if (missing) f.fail(`signer.${missing}`, `is required together with signer.${set[0] ?? ''} (signer.identity, signer.oidcIssuer and signer.trustedRootPath go together)`);
  return {
    identity: f.string('signer.identity', nonEmpty),
    oidcIssuer: f.string('signer.oidcIssuer', httpUrl),
    trustedRootPath: f.string('signer.trustedRootPath', absolutePath),
  };
}

function buildToken(f: Fields): TokenSource {
  const kind = oneOf(f, 'signer.token.kind', TOKEN_KEYS);
  onlyKeys(f, 'signer.token', kind, TOKEN_KEYS[kind]);
  if (kind === 'file') return { kind, path: f.string('signer.token.path', nonEmpty) };
  // Fulcio checks the audience claim; it is a plain string but usually a URI or "sigstore".
  return { kind, audience: f.string('signer.token.audience', (v) => nonEmpty(v) ?? (v.includes(':') ? absoluteUri(v) : undefined)) };
}

function oneOf<K extends string>(f: Fields, field: string, table: Record<K, unknown>): K {
  const kinds = Object.keys(table);
  const kind = f.string(field, (v) => (kinds.includes(v) ? undefined : `must be one of ${kinds.join(', ')}`));
  return kind as K;
}

function onlyKeys(f: Fields, group: string, kind: string, allowed: readonly string[]): void {
  for (const key of f.keysOf(group)) {
    if (!allowed.includes(key)) f.fail(`${group}.${key}`, `does not apply to ${group} kind "${kind}"`);
  }
}
