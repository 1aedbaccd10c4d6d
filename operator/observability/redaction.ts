// Paths pino blanks before a log line is written. A wildcard matches exactly one level, so
// each secret-looking key is listed at the top level and one and two levels down; deeper
// secrets must not be logged at all. Error messages and free text are not redacted.

const SECRET_KEYS = [
  'token',
  'accessToken',
  'idToken',
  'identityToken',
  'refreshToken',
  'clientSecret',
  'password',
  'privateKey',
  'keyPem',
  'authorization',
  'Authorization',
  'cookie',
];

const HEADER_PATHS = ['headers.authorization', 'headers.Authorization', 'headers.cookie', 'headers["x-goog-api-key"]'];

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...HEADER_PATHS.flatMap((path) => [path, `*.${path}`]),
];

export const REDACTED = '[REDACTED]';
