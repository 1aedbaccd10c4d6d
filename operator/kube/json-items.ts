// Cuts the `items` of a Kubernetes list response out of the byte stream one at a time, so a page
// of large objects (a TaskRun can carry a megabyte of results) is never held whole. Everything
// outside `items` (apiVersion, kind, metadata with `continue` and `resourceVersion`) is kept; it is
// small. Works on raw UTF-8 bytes: every JSON structural character is ASCII.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const ITEMS = 'items';
const EMPTY = Buffer.alloc(0);

export class ListItemSplitter {
  readonly #onItem: (json: Buffer) => void;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** Bytes of the string being read at depth 1 (a key), capped: only "items" matters. */
  #key: number[] | undefined;
  #lastKey = '';
  #inItems = false;
  #item: Buffer[] = [];
  #inItem = false;
  #rest: Buffer[] = [];
  /** The chunk being read, and where in it the current item and the kept rest began. */
  #chunk: Buffer = EMPTY;
  #itemStart = 0;
  #restStart = 0;
  /** Where the next quote and backslash lie in the chunk (-1: none left, -2: not looked for yet). */
  #nextQuote = -2;
  #nextBackslash = -2;

  constructor(onItem: (json: Buffer) => void) {
    this.#onItem = onItem;
  }

  push(chunk: Buffer): void {
    this.#chunk = chunk;
    this.#itemStart = 0;
    this.#restStart = 0;
    this.#nextQuote = -2;
    this.#nextBackslash = -2;
    for (let i = 0; i < chunk.length; i++) {
      if (this.#inString) {
        i = this.#skipString(i);
        continue;
      }
      const c = chunk[i] as number;
      if (c === QUOTE) this.#openString();
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.#open(c, i);
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) this.#close(i);
    }
    if (this.#inItem) this.#item.push(chunk.subarray(this.#itemStart));
    else if (!this.#inItems) this.#rest.push(Buffer.from(chunk.subarray(this.#restStart)));
    this.#chunk = EMPTY;
  }

  /** The list without its items, parsed: `{ kind, metadata: { continue, resourceVersion }, items: [] }`. */
  end(): unknown {
    if (this.#depth !== 0 || this.#inString) throw new Error('list response ended in the middle of a JSON value');
    return JSON.parse(Buffer.concat(this.#rest).toString('utf8'));
  }

  #openString(): void {
    this.#inString = true;
    if (this.#depth === 1) this.#key = [];
  }

  #open(c: number, i: number): void {
    if (this.#depth === 1 && c === OPEN_ARRAY && this.#lastKey === ITEMS) {
      this.#inItems = true;
      this.#rest.push(Buffer.from(this.#chunk.subarray(this.#restStart, i + 1)));
    } else if (this.#inItems && this.#depth === 2) {
      this.#inItem = true;
      this.#itemStart = i;
    }
    this.#depth++;
  }

  #close(i: number): void {
    this.#depth--;
    if (this.#inItem && this.#depth === 2) {
      this.#item.push(this.#chunk.subarray(this.#itemStart, i + 1));
      this.#emitItem();
    } else if (this.#inItems && this.#depth === 1) {
      this.#inItems = false;
      this.#restStart = i;
    }
  }

  /** Consumes string bytes from i on; returns the index of the last byte consumed. */
  #skipString(i: number): number {
    if (this.#key || this.#escaped) {
      this.#readString(this.#chunk[i] as number);
      return i;
    }
    const chunk = this.#chunk;
    let j = i;
    for (;;) {
      // Byte by byte for a while (short strings, escapes), then jump with indexOf: string values
      // (a megabyte of results) are most of the bytes, and memchr is faster than any JS loop.
      const stop = Math.min(chunk.length, j + 64);
      for (; j < stop; j++) {
        const c = chunk[j];
        if (c === QUOTE) {
          this.#inString = false;
          return j;
        }
        if (c !== BACKSLASH) continue;
        if (j + 1 === chunk.length) {
          this.#escaped = true;
          return j;
        }
        j++; // the escaped byte
      }
      if (j >= chunk.length) return chunk.length - 1;
      const next = this.#nextSpecial(j);
      if (next === -1) return chunk.length - 1;
      j = next;
    }
  }

  /** The next quote or backslash at or after `from`; each is looked up once per chunk and remembered. */
  #nextSpecial(from: number): number {
    if (this.#nextQuote !== -1 && this.#nextQuote < from) this.#nextQuote = this.#chunk.indexOf(QUOTE, from);
    if (this.#nextBackslash !== -1 && this.#nextBackslash < from) this.#nextBackslash = this.#chunk.indexOf(BACKSLASH, from);
    if (this.#nextQuote === -1) return this.#nextBackslash;
    if (this.#nextBackslash === -1) return this.#nextQuote;
    return Math.min(this.#nextQuote, this.#nextBackslash);
  }

  #readString(c: number): void {
    if (this.#escaped) {
      this.#escaped = false;
    } else if (c === BACKSLASH) {
      this.#escaped = true;
    } else if (c === QUOTE) {
      this.#inString = false;
      if (this.#key) this.#lastKey = this.#key.length <= ITEMS.length ? String.fromCharCode(...this.#key) : '';
      this.#key = undefined;
      return;
    }
    if (this.#key && this.#key.length <= ITEMS.length) this.#key.push(c);
  }

  #emitItem(): void {
    const json = this.#item.length === 1 ? (this.#item[0] as Buffer) : Buffer.concat(this.#item);
    this.#item = [];
    this.#inItem = false;
    this.#onItem(json);
  }
}
