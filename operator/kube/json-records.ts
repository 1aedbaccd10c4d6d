// Cuts JSON records out of a byte stream as it arrives — the objects of a watch stream, or the
// items of a list response — so that no page and no whole stream is ever held. Each record is
// handed over as bytes with every string longer than `maxString` emptied on the way: the operator
// only classifies what it watches (names, conditions, its own annotations) and reads a TaskRun live
// before acting, so a megabyte of results never has to exist in the process at all. Works on raw
// UTF-8: every JSON structural character is ASCII.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const ITEMS = 'items';
const EMPTY = Buffer.alloc(0);
/** Scanned byte by byte before a string jumps ahead with indexOf (memchr beats any JS loop on long runs). */
const SHORT_RUN = 64;

/**
 * 'watch': a sequence of JSON values (a watch response, one event per line), each a record.
 * 'list': one list object; the records are its `items`, the rest (`metadata.continue`,
 * `metadata.resourceVersion`) is kept and returned by end().
 */
export type RecordLayout = 'watch' | 'list';

type Destination = 'record' | 'string' | 'rest' | 'drop';

export class JsonRecords {
  readonly #layout: RecordLayout;
  readonly #onRecord: (json: Buffer) => void;
  readonly #maxString: number;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** Bytes of a string read at depth 1 of a list (a key), capped: only "items" matters. */
  #key: number[] | undefined;
  #lastKey = '';
  #inItems = false;
  #inRecord = false;
  /** Kept bytes of the current record, and of the string being read in it (until it proves too long). */
  #record: Buffer[] = [];
  #string: Buffer[] = [];
  #stringLength = 0;
  #stringDropped = false;
  #rest: Buffer[] = [];
  /** The chunk being read, and where its bytes not yet given to a destination begin. */
  #chunk: Buffer = EMPTY;
  #from = 0;
  /** The next quote in the chunk at or after where it was last looked for (-1: none left, -2: not looked for). */
  #nextQuote = -2;

  constructor(layout: RecordLayout, onRecord: (json: Buffer) => void, maxString = Infinity) {
    this.#layout = layout;
    this.#onRecord = onRecord;
    this.#maxString = maxString;
  }

  push(chunk: Buffer): void {
    this.#chunk = chunk;
    this.#from = 0;
    this.#nextQuote = -2;
    for (let i = 0; i < chunk.length; i++) {
      if (this.#inString) {
        i = this.#skipString(i);
        continue;
      }
      const c = chunk[i] as number;
      if (c === QUOTE) this.#openString(i);
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.#open(c, i);
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) this.#close(i);
    }
    this.#give(chunk.length);
    this.#chunk = EMPTY;
  }

  /** For a list: the list without its items, parsed (`{ kind, metadata: { continue, resourceVersion }, items: [] }`). */
  end(): unknown {
    if (this.#depth !== 0 || this.#inString) throw new Error('response ended in the middle of a JSON value');
    return this.#layout === 'list' ? JSON.parse(Buffer.concat(this.#rest).toString('utf8')) : undefined;
  }

  /** Where the bytes being read now belong. */
  #destination(): Destination {
    if (this.#inRecord) return this.#inString ? (this.#stringDropped ? 'drop' : 'string') : 'record';
    return this.#layout === 'list' && !this.#inItems ? 'rest' : 'drop';
  }

  /** Hands the chunk's bytes up to `to` to where they belong. */
  #give(to: number): void {
    if (to <= this.#from) return;
    const bytes = this.#chunk.subarray(this.#from, to);
    this.#from = to;
    switch (this.#destination()) {
      case 'record':
        this.#record.push(bytes);
        break;
      case 'string':
        this.#string.push(bytes);
        this.#stringLength += bytes.length;
        if (this.#stringLength > this.#maxString) {
          this.#stringDropped = true;
          this.#string = [];
        }
        break;
      case 'rest':
        this.#rest.push(Buffer.from(bytes));
        break;
      case 'drop':
        break;
    }
  }

  #openString(i: number): void {
    this.#give(i + 1);
    this.#inString = true;
    this.#string = [];
    this.#stringLength = 0;
    this.#stringDropped = false;
    if (this.#layout === 'list' && this.#depth === 1) this.#key = [];
  }

  #closeString(i: number): void {
    this.#give(i);
    this.#inString = false;
    if (this.#inRecord) this.#record.push(...this.#string);
    this.#string = [];
    if (this.#key) this.#lastKey = this.#key.length <= ITEMS.length ? String.fromCharCode(...this.#key) : '';
    this.#key = undefined;
  }

  #open(c: number, i: number): void {
    if (this.#layout === 'list' && this.#depth === 1 && c === OPEN_ARRAY && this.#lastKey === ITEMS) {
      this.#give(i + 1);
      this.#inItems = true;
    } else if (!this.#inRecord && this.#depth === (this.#layout === 'list' ? 2 : 0) && (this.#inItems || this.#layout === 'watch')) {
      this.#give(i);
      this.#inRecord = true;
    }
    this.#depth++;
  }

  #close(i: number): void {
    this.#depth--;
    if (this.#inRecord && this.#depth === (this.#layout === 'list' ? 2 : 0)) {
      this.#give(i + 1);
      this.#inRecord = false;
      const json = this.#record.length === 1 ? (this.#record[0] as Buffer) : Buffer.concat(this.#record);
      this.#record = [];
      this.#onRecord(json);
    } else if (this.#inItems && this.#depth === 1) {
      this.#give(i);
      this.#inItems = false;
    }
  }

  /** Reads string bytes from i on; returns the index of the last byte read. */
  #skipString(i: number): number {
    if (this.#key || this.#escaped) return this.#readStringByte(i);
    const chunk = this.#chunk;
    let j = i;
    for (;;) {
      const stop = Math.min(chunk.length, j + SHORT_RUN);
      for (; j < stop; j++) {
        const c = chunk[j];
        if (c === QUOTE) {
          this.#closeString(j);
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

  /** The next quote or backslash at or after `from`, -1 if none; no byte is searched twice. */
  #nextSpecial(from: number): number {
    if (this.#nextQuote !== -1 && this.#nextQuote < from) this.#nextQuote = this.#chunk.indexOf(QUOTE, from);
    const end = this.#nextQuote === -1 ? this.#chunk.length : this.#nextQuote;
    const backslash = this.#chunk.subarray(from, end).indexOf(BACKSLASH);
    return backslash === -1 ? this.#nextQuote : from + backslash;
  }

  #readStringByte(i: number): number {
    const c = this.#chunk[i] as number;
    if (this.#escaped) {
      this.#escaped = false;
    } else if (c === BACKSLASH) {
      this.#escaped = true;
    } else if (c === QUOTE) {
      this.#closeString(i);
      return i;
    }
    if (this.#key && this.#key.length <= ITEMS.length) this.#key.push(c);
    return i;
  }
}

