// Maps failures from @sigstore/sign (Fulcio, Rekor, the token provider) onto SigningError.
// Its own messages are not reused: one of them embeds the identity token.
import { SigningError } from '../errors.ts';
import { firstCause } from '../first-cause.ts';

const MESSAGES: Readonly<Record<string, string>> = {
  IDENTITY_TOKEN_READ_ERROR: 'could not obtain an OIDC identity token',
  IDENTITY_TOKEN_PARSE_ERROR: 'the OIDC identity token is not a readable JWT',
  CA_CREATE_SIGNING_CERTIFICATE_ERROR: 'Fulcio did not issue a signing certificate',
  TLOG_CREATE_ENTRY_ERROR: 'Rekor did not accept the transparency-log entry',
};

export function toSigningError(err: unknown): SigningError {
  if (err instanceof SigningError) return err;
  // Our own token providers' failures (a deadline, an unreadable file) say more than the wrapper.
  const inner = (err as { cause?: unknown } | undefined)?.cause;
  if (inner instanceof SigningError) return inner;
  const code = codeOf(err);
  const status = httpStatusOf(err);
  // A token that cannot be parsed may be a secret pasted in the wrong place: keep it out of the chain.
  const cause = code === 'IDENTITY_TOKEN_PARSE_ERROR' ? undefined : err;
  const message = (MESSAGES[code] ?? 'signing failed') + detail(status, cause);
  return new SigningError({ code, message, cause, retryable: isTransient(code, status) });
}

// The HTTP status, or else the network reason (connect ECONNREFUSED, a timeout) of the first failure.
function detail(status: number | undefined, cause: unknown): string {
  if (status) return ` (HTTP ${status})`;
  const inner = (cause as { cause?: unknown } | undefined)?.cause;
  return inner === undefined ? '' : `: ${firstCause(inner)}`;
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
