// Where a request's credential comes from: fixed in the kubeconfig, a token file that is rewritten
// while the operator runs (a bound ServiceAccount token, which the kubelet rotates), or an exec
// plugin (exec-credential.ts). A source hands out the credential to use now and, when the API
// server refuses one (401), forgets it so that the next request gets a fresh one.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';

export interface Credential {
  /** The Authorization header's value (Bearer or Basic). */
  readonly authorization?: string;
  /** A client certificate and its key (PEM). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface CredentialSource {
  current(): Promise<Credential>;
  /** The API server answered 401 to `used`: whether asking again with current() may succeed. */
  refused(used: Credential): boolean;
}

/** Re-read at most this often, as client-go does; at once after a 401. */
export const TOKEN_FILE_TTL_MS = 60_000;

export function fixedCredential(credential: Credential): CredentialSource {
  return { current: () => Promise.resolve(credential), refused: () => false };
}

export class TokenFileSource implements CredentialSource {
  readonly #path: string;
  #cached: { readonly credential: Credential; readonly at: number };
  #reading: Promise<Credential> | undefined;

  /** Reads the file now, so a token that is not there fails at start-up, not at the first call. */
  constructor(path: string) {
    this.#path = path;
    this.#cached = { credential: bearer(readFileSync(path, 'utf8')), at: Date.now() };
  }

  current(): Promise<Credential> {
    if (Date.now() - this.#cached.at <= TOKEN_FILE_TTL_MS) return Promise.resolve(this.#cached.credential);
    this.#reading ??= readFile(this.#path, 'utf8').then((text) => {
      this.#cached = { credential: bearer(text), at: Date.now() };
      return this.#cached.credential;
      // A file being replaced can be missing for an instant: the last token read stays in use.
    }, () => this.#cached.credential).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  refused(used: Credential): boolean {
    if (this.#cached.credential === used) this.#cached = { credential: used, at: 0 };
    return true;
  }
}

function bearer(text: string): Credential {
  return { authorization: `Bearer ${text.trim()}` };
}
