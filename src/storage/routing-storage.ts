// One Storage for both schemes: each call goes to the backend its URI names.
import { StorageError } from './errors.ts';
import type { Created, Storage, StoredObject } from './types.ts';
import type { Readable } from 'node:stream';

export type Backends = { gs: () => Storage; file: () => Storage };

export class RoutingStorage implements Storage {
  readonly #backends: Backends;

  constructor(backends: Backends) {
    this.#backends = backends;
  }

  // Async throughout, so a bad URI is a rejection (or a failing iteration), never a throw.
  async *list(prefixUri: string): AsyncIterable<StoredObject> {
    yield* this.#for(prefixUri).list(prefixUri);
  }

  async stat(uri: string): Promise<StoredObject | undefined> {
    return this.#for(uri).stat(uri);
  }

  async statAll(uris: readonly string[]): Promise<Array<StoredObject | undefined>> {
    const [first] = uris;
    // One backend answers names of one scheme together; a mix is asked name by name.
    if (first !== undefined && uris.every((u) => this.#for(u) === this.#for(first))) return this.#for(first).statAll(uris);
    return Promise.all(uris.map((uri) => this.stat(uri)));
  }

  async openRead(uri: string): Promise<Readable> {
    return this.#for(uri).openRead(uri);
  }

  async read(uri: string, maxBytes: number): Promise<Buffer> {
    return this.#for(uri).read(uri, maxBytes);
  }

  async createOnly(uri: string, data: Buffer, contentType: string): Promise<Created> {
    return this.#for(uri).createOnly(uri, data, contentType);
  }

  #for(uri: string): Storage {
    if (uri.startsWith('gs://')) return this.#backends.gs();
    if (uri.startsWith('file:')) return this.#backends.file();
    throw new StorageError('INVALID_URI', `invalid storage URI ${JSON.stringify(uri)}: only gs:// and file:// are supported`);
  }
}
