// Maps failures from @sigstore/sign (Fulcio, Rekor, the token provider) onto SigningError.
// Its own messages are not reused: one of them embeds the identity token.
import { SigningError } from '../errors.ts';

const MESSAGES: Readonly<Record<string, string>> = {
  IDENTITY_TOKEN_READ_ERROR: 'could not obtain an OIDC identity token',
  IDENTITY_TOKEN_PARSE_ERROR: 'the OIDC identity token is not a readable JWT',
  CA_CREATE_SIGNING_CERTIFICATE_ERROR: 'Fulcio did not issue a signing certificate',
  TLOG_CREATE_ENTRY_ERROR: 'Rekor did not accept the transparency-log entry',
};

export function toSigningError(err: unknown): SigningError {
  if (err instanceof SigningError) return err;
  const code = codeOf(err);
  const status = httpStatusOf(err);
  const message = (MESSAGES[code] ?? 'signing failed') + (status ? ` (HTTP ${status})` : '');
  // A token that cannot be parsed may be a secret pasted in the wrong place: keep it out of the chain.
  const cause = code === 'IDENTITY_TOKEN_PARSE_ERROR' ? undefined : err;
  return new SigningError({ code, message, cause, retryable: isTransient(code, status) });
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'SIGN_FAILED';
}

function httpStatusOf(err: unknown): number | undefined {
  const cause = (err as { cause?: { statusCode?: unknown } } | undefined)?.cause;
  return typeof cause?.statusCode === 'number' ? cause.statusCode : undefined;
}

function isTransient(code: string, status: number | undefined): boolean {
  if (code === 'IDENTITY_TOKEN_PARSE_ERROR') return false;
  return status === undefined || status >= 500 || status === 429;
}
