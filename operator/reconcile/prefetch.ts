// One attempt's view of storage in which the stat of a single-file model also answers what the
// names next to it hold: one request (on GCS a listing of the range from `model.pth` to
// `model.pth.sigstore.json`, or `model.pth.vsa-….sigstore.json` with verification summaries on)
// instead of one for the model and one for its siblings. The inspection
// of those names (store.ts) then reads the answer instead of asking again. It is the state of the
// names at the moment the model was looked up, before it was read and hashed: anything written
// there later is met by our create-only writes (412) and judged then, exactly as a write that
// lands between an inspection and our own write always was. An answer is used once, and never
// for a name this view has written.
import { provenanceLocations, summaryLocation } from '../../src/layout/index.ts';
import type { Created, Storage, StoredObject } from '../../src/storage/index.ts';
import type { Readable } from 'node:stream';

export class PrefetchingStorage implements Storage {
  readonly #storage: Storage;
  readonly #known = new Map<string, StoredObject | undefined>();
  readonly #modelSignature: boolean;
  readonly #summaryDigests: readonly string[];

  /**
   * `modelSignature`: the `.sig` is one of the names looked up with the model; `summaryDigests`:
   * so is the verification summary of each of these policies.
   */
  constructor(storage: Storage, options: { modelSignature: boolean; summaryDigests?: readonly string[] }) {
    this.#storage = storage;
    this.#modelSignature = options.modelSignature;
    this.#summaryDigests = options.summaryDigests ?? [];
  }

  list(prefixUri: string): AsyncIterable<StoredObject> {
    return this.#storage.list(prefixUri);
  }

  async stat(uri: string): Promise<StoredObject | undefined> {
    if (uri.endsWith('/') || uri.includes('#')) return this.#storage.stat(uri);
    const loc = provenanceLocations(uri);
    const siblings = [loc.bundle, loc.envelope, ...(this.#modelSignature ? [loc.signature] : []), ...this.#summaryDigests.map((d) => summaryLocation(uri, d))];
    const [model, ...found] = await this.#storage.statAll([uri, ...siblings]);
    for (const [i, name] of siblings.entries()) this.#known.set(name, found[i]);
    return model;
  }

  async statAll(uris: readonly string[]): Promise<Array<StoredObject | undefined>> {
    if (uris.every((u) => this.#known.has(u))) {
      const answers = uris.map((u) => this.#known.get(u));
      for (const u of uris) this.#known.delete(u);
      return answers;
    }
    return this.#storage.statAll(uris);
  }

  openRead(uri: string): Promise<Readable> {
    return this.#storage.openRead(uri);
  }

  read(uri: string, maxBytes: number): Promise<Buffer> {
    return this.#storage.read(uri, maxBytes);
  }

  createOnly(uri: string, data: Buffer, contentType: string): Promise<Created> {
    this.#known.delete(uri);
    return this.#storage.createOnly(uri, data, contentType);
  }
}
