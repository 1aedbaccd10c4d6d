// Cuts JSON records out of a byte stream as it arrives — the objects of a watch stream, or the
// items of a list response — so that no page and no whole stream is ever held. Each record is
// handed over as bytes with every string longer than `maxString` emptied on the way: the operator
// only classifies what it watches (names, conditions, its own annotations) and reads a TaskRun live
// before acting, so a megabyte of results never has to exist in the process at all. Works on raw
// UTF-8: every JSON structural character is ASCII.
//
// It does not parse, but it refuses to go on where a split could be wrong (UnsplittableStream): a
// close with nothing open, a byte JSON never has outside a string (a lost quote turns strings
// inside out), an object or array where no value can start (a record cut short and the next one
// begun), or a record past its size limit. A record that splits but does not parse is the caller's
// to skip; a stream that does not split must be read again from the start.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const ITEMS = 'items';
const EMPTY = Buffer.alloc(0);
/** Scanned byte by byte before a string jumps ahead with indexOf (memchr beats any JS loop on long runs). */
const SHORT_RUN = 64;
/** What a JSON text may hold outside its strings, besides quotes and brackets: 1 a value's byte, 2 whitespace. */
const OUTSIDE_STRINGS = new Uint8Array(256);
for (const c of Buffer.from(',:-+.0123456789eEtrufalsn')) OUTSIDE_STRINGS[c] = 1;
for (const c of Buffer.from(' \t\n\r')) OUTSIDE_STRINGS[c] = 2;

/** The bytes no longer split into records reliably; the stream must be read again from its start. */
export class UnsplittableStream extends Error {
  override readonly name = 'UnsplittableStream';
}

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
  readonly #maxRecord: number;
  #depth = 0;
  /** The last byte outside a string that was not whitespace (a quote for a string). */
  #last = 0;
  /** Bytes of the stream before the chunk being read; bytes kept for the record (or the rest of a list). */
  #offset = 0;
  #recordBytes = 0;
  #restBytes = 0;
  #failure: UnsplittableStream | undefined;
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

  /** `maxRecord`: the most bytes one record (after emptying) or the rest of a list may hold. */
  constructor(layout: RecordLayout, onRecord: (json: Buffer) => void, maxString = Infinity, maxRecord = Infinity) {
    this.#layout = layout;
    this.#onRecord = onRecord;
    this.#maxString = maxString;
    this.#maxRecord = maxRecord;
  }

  /** Reads the next bytes; throws UnsplittableStream (then and on every later push) once they cannot be split. */
  push(chunk: Buffer): void {
    if (this.#failure) throw this.#failure;
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
      else this.#other(c, i);
    }
    this.#give(chunk.length);
    this.#offset += chunk.length;
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
        this.#keep(bytes.length);
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
        this.#restBytes += bytes.length;
        if (this.#restBytes > this.#maxRecord) this.#fail(`the list without its items is over ${this.#maxRecord} bytes`, to);
        break;
      case 'drop':
        break;
    }
  }

  /** Counts bytes kept for the record; one too large to be an object of the API server means a split went wrong. */
  #keep(bytes: number): void {
    this.#recordBytes += bytes;
    if (this.#recordBytes > this.#maxRecord) this.#fail(`a record is over ${this.#maxRecord} bytes`, this.#from);
  }

  #fail(why: string, at: number): never {
    this.#failure = new UnsplittableStream(`the ${this.#layout} response does not split into JSON records: ${why} (at byte ${this.#offset + at})`);
    throw this.#failure;
  }

  /** A byte outside strings that is neither a quote nor a bracket. */
  #other(c: number, i: number): void {
    const kind = OUTSIDE_STRINGS[c];
    if (kind === 2) return;
    if (kind !== 1) this.#fail(`byte 0x${c.toString(16).padStart(2, '0')} outside a string`, i);
    if (this.#depth === 0 && this.#layout === 'watch') this.#fail('a value that is not an object between events', i);
    this.#last = c;
  }

  #openString(i: number): void {
    if (this.#depth === 0 && this.#layout === 'watch') this.#fail('a string between events', i);
    this.#last = QUOTE;
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
    if (this.#inRecord) {
      for (const part of this.#string) this.#record.push(part);
      this.#keep(this.#stringDropped ? 0 : this.#stringLength);
    }
    this.#string = [];
    if (this.#key) this.#lastKey = this.#key.length <= ITEMS.length ? String.fromCharCode(...this.#key) : '';
    this.#key = undefined;
  }

  #open(c: number, i: number): void {
    this.#valueStarts(i);
    this.#last = c;
    if (this.#layout === 'list' && this.#depth === 1 && c === OPEN_ARRAY && this.#lastKey === ITEMS) {
      this.#give(i + 1);
      this.#inItems = true;
    } else if (!this.#inRecord && this.#depth === (this.#layout === 'list' ? 2 : 0) && (this.#inItems || this.#layout === 'watch')) {
      this.#give(i);
      this.#inRecord = true;
    }
    this.#depth++;
  }

  /** Inside a value, an object or array starts only after a colon, a comma or an array's opening. */
  #valueStarts(i: number): void {
    if (this.#depth > 0 && this.#last !== COLON && this.#last !== COMMA && this.#last !== OPEN_ARRAY) this.#fail('an object or array where no value can start', i);
  }

  #close(i: number): void {
    if (this.#depth === 0) this.#fail('a closing bracket with nothing open', i);
    this.#last = CLOSE_OBJECT;
    this.#depth--;
    if (this.#inRecord && this.#depth === (this.#layout === 'list' ? 2 : 0)) {
      this.#give(i + 1);
      this.#inRecord = false;
      const json = this.#record.length === 1 ? (this.#record[0] as Buffer) : Buffer.concat(this.#record);
      this.#record = [];
      this.#recordBytes = 0;
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

