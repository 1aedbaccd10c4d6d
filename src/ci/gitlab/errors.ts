// Why a GitLab job could not be described: the code names the kind of fault, the message the
// claim or variable at fault.
export type GitlabErrorCode = 'OIDC_TOKEN_MISSING' | 'OIDC_TOKEN_INVALID' | 'ENVIRONMENT_MISMATCH' | 'VARIABLE_MISSING';

export class GitlabError extends Error {
  readonly code: GitlabErrorCode;

  constructor(code: GitlabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GitlabError';
    this.code = code;
  }
}
