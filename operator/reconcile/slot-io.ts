// Reading and creating one object next to a model without trusting what is there: the name is
// empty, holds exactly what we wrote, or holds something a judge has to look at. Shared by the
// provenance slots and the model-signing slot.
import { StorageError, md5Base64, type Storage } from '../../src/storage/index.ts';

export type Slot = { readonly state: 'empty' } | { readonly state: 'ours'; readonly content: string } | { readonly state: 'foreign'; readonly why: string };

export type Taken = Exclude<Slot, { state: 'empty' }>;

/** Decides whether an object already at a name is ours. */
export type Judge = (content: string) => Promise<Taken>;

export interface SlotStore {
  readonly storage: Storage;
  /** Largest object read back or inspected. */
  readonly maxBytes: number;
}

/** What each name holds, all asked at once (one listing on GCS); only names that hold something are read. */
export async function inspectSlotsAt(store: SlotStore, names: ReadonlyArray<{ readonly uri: string; readonly judge: Judge }>): Promise<Slot[]> {
  const found = await store.storage.statAll(names.map((n) => n.uri));
  return Promise.all(names.map((n, i): Promise<Slot> => (found[i] === undefined ? Promise.resolve({ state: 'empty' }) : inspectSlot(store, n.uri, n.judge))));
}

export async function inspectSlot(store: SlotStore, uri: string, judge: Judge): Promise<Slot> {
  const read = await readSlot(store, uri);
  if ('absent' in read) return { state: 'empty' };
  return 'tooLarge' in read ? tooLarge(store) : judge(read.content);
}

/**
 * Creates the object and makes sure the name holds our bytes. Where the store answers the create
 * with its own checksum of what it stored (GCS: the md5Hash of the new generation, computed by
 * the server), that checksum equal to our bytes' is the proof, and nothing is read back: a read
 * could only show the same bytes again, and what happens to the object later (replacing it needs
 * rights no tenant is given) no read now could rule out. Otherwise — no checksum, or someone
 * wrote the name between our inspection and our write (412) — whatever the name holds is read
 * back: our bytes, or their object, judged like any other.
 */
export async function createOrRead(store: SlotStore, uri: string, content: string, contentType: string, judge: Judge): Promise<Taken> {
  const data = Buffer.from(content);
  try {
    const created = await store.storage.createOnly(uri, data, contentType);
    if (created.md5 !== undefined && created.md5 === md5Base64(data) && (created.size ?? data.length) === data.length) return { state: 'ours', content };
  } catch (err) {
    if (!(err instanceof StorageError) || err.code !== 'ALREADY_EXISTS') throw err;
  }
  const read = await readSlot(store, uri);
  if ('absent' in read) throw new StorageError('UNAVAILABLE', `${uri} was written but cannot be read back`, { retryable: true });
  if ('tooLarge' in read) return tooLarge(store);
  return read.content === content ? { state: 'ours', content } : judge(read.content);
}

function tooLarge(store: SlotStore): Taken {
  return { state: 'foreign', why: `it is larger than ${store.maxBytes} bytes` };
}

type Read = { readonly content: string } | { readonly absent: true } | { readonly tooLarge: true };

async function readSlot(store: SlotStore, uri: string): Promise<Read> {
  try {
    return { content: (await store.storage.read(uri, store.maxBytes)).toString('utf8') };
  } catch (err) {
    if (err instanceof StorageError && err.code === 'NOT_FOUND') return { absent: true };
    if (err instanceof StorageError && err.code === 'TOO_LARGE') return { tooLarge: true };
    throw err;
  }
}
