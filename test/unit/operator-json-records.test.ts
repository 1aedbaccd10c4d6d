// The watch/list tokenizer against JSON.parse, on generated streams: whatever the bytes (every
// escape, raw multi-byte UTF-8, strings on both sides of the emptying limit, deep nesting, every
// number form) and wherever the chunks split them, each record handed over is the record as
// written with its long strings emptied. Cases come from a seeded generator: a failure names its
// seed, and JSON_RECORDS_FUZZ_SEED=<seed> replays exactly that run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonRecords, UnsplittableStream, type RecordLayout } from '../../operator/kube/json-records.ts';
import { MAX_STRING_BYTES } from '../../operator/kube/list.ts';

const BASE_SEED = Number(process.env.JSON_RECORDS_FUZZ_SEED ?? 20_261_207);

/** mulberry32: tiny, seeded, and the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** JSON text as written, and as the tokenizer must hand it over (long strings emptied). */
interface Text { written: string; handed: string }

const ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t'];
const WHITESPACE = [' ', '\t', '\n', '\r'];

class Generator {
  readonly #rand: () => number;
  readonly maxString: number;

  constructor(seed: number, maxString: number) {
    this.#rand = prng(seed);
    this.maxString = maxString;
  }

  int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  chance(p: number): boolean {
    return this.#rand() < p;
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)] as T;
  }

  ws(): string {
    if (this.chance(0.6)) return '';
    let s = '';
    for (let n = 1 + this.int(3); n > 0; n--) s += this.pick(WHITESPACE);
    return s;
  }

  hex4(from: number, span: number): string {
    const h = (from + this.int(span)).toString(16).padStart(4, '0');
    return this.chance(0.5) ? h.toUpperCase() : h;
  }

  /** One character of a JSON string's body, as written. */
  unit(): string {
    switch (this.int(8)) {
      case 0: return this.pick(ESCAPES);
      case 1: return `\\u${this.hex4(0, 0x10000)}`; // lone surrogates included: JSON.parse takes them
      case 2: return `\\u${this.hex4(0xd800, 0x400)}\\u${this.hex4(0xdc00, 0x400)}`;
      case 3: return String.fromCodePoint(0x80 + this.int(0x780)); // 2 bytes
      case 4: return String.fromCodePoint(this.chance(0.5) ? 0x800 + this.int(0xd000) : 0xe000 + this.int(0x2000)); // 3 bytes
      case 5: return String.fromCodePoint(0x10000 + this.int(0x100000)); // 4 bytes
      default: return this.pick(['{', '}', '[', ']', ',', ':', 'x', ' ', '\u007f', String.fromCharCode(0x20 + this.int(2)), String.fromCharCode(0x23 + this.int(0x39))]);
    }
  }

  /** A string body of exactly `bytes` UTF-8 bytes, often ending in an escape (a backslash or quote right before the closing quote). */
  body(bytes: number): string {
    const tail = this.pick(['\\\\', '\\"', '\\u00e9', '😀', 'é', '', 'z']);
    const units: string[] = [];
    let size = 0;
    while (size + 12 + Buffer.byteLength(tail) < bytes) {
      const unit = this.unit();
      units.push(unit);
      size += Buffer.byteLength(unit);
    }
    return units.join('') + 'p'.repeat(Math.max(0, bytes - size - Buffer.byteLength(tail))) + tail;
  }

  string(): Text {
    const limit = Number.isFinite(this.maxString) ? this.maxString : 200;
    const size = this.int(10) < 7 ? this.int(12) : Math.max(0, limit - 3 + this.int(7));
    const body = size === 0 ? '' : this.body(size);
    const written = `"${body}"`;
    return { written, handed: Buffer.byteLength(body) > this.maxString ? '""' : written };
  }

  number(): string {
    const digits = (n: number): string => Array.from({ length: n }, () => String(this.int(10))).join('');
    let s = this.chance(0.3) ? '-' : '';
    s += this.chance(0.3) ? '0' : `${1 + this.int(9)}${digits(this.int(this.chance(0.1) ? 40 : 5))}`;
    if (this.chance(0.3)) s += `.${digits(1 + this.int(6))}`;
    if (this.chance(0.3)) s += `${this.pick(['e', 'E'])}${this.pick(['', '+', '-'])}${digits(1 + this.int(3))}`;
    return s;
  }

  value(depth: number): Text {
    const roll = this.int(depth > 6 ? 5 : 8);
    if (roll === 0) return same(this.number());
    if (roll === 1) return same(this.pick(['true', 'false', 'null']));
    if (roll <= 4) return this.string();
    if (roll === 5 && this.chance(0.1)) return this.deep();
    return roll % 2 === 0 ? this.object(depth + 1) : this.array(depth + 1);
  }

  object(depth: number): Text {
    const members: Text[] = [];
    // Keys stay distinct once emptied: what JSON.parse makes of a duplicate key is not what is under test.
    const keys = new Set<string>();
    for (let n = depth > 4 ? this.int(2) : 1 + this.int(5); n > 0; n--) {
      const key = this.string();
      const decoded = JSON.parse(key.handed) as string;
      if (keys.has(decoded)) continue;
      keys.add(decoded);
      const value = this.value(depth);
      members.push(join([key, same(`${this.ws()}:${this.ws()}`), value]));
    }
    return this.container('{', '}', members);
  }

  array(depth: number): Text {
    const items: Text[] = [];
    for (let n = this.int(depth > 4 ? 2 : 5); n > 0; n--) items.push(this.value(depth));
    return this.container('[', ']', items);
  }

  container(open: string, close: string, parts: Text[]): Text {
    const inner: Text[] = [];
    parts.forEach((part, i) => inner.push(same(i === 0 ? this.ws() : `${this.ws()},${this.ws()}`), part));
    return join([same(open), ...inner, same(`${this.ws()}${close}`)]);
  }

  /** A chain a few hundred levels deep. */
  deep(): Text {
    const levels = 50 + this.int(250);
    const opens: Text[] = [];
    const closes: string[] = [];
    for (let i = 0; i < levels; i++) {
      const key = this.chance(0.5);
      opens.push(key ? join([same('{'), this.literal('k'), same(':')]) : same('['));
      closes.unshift(key ? '}' : ']');
    }
    return join([...opens, this.string(), same(closes.join(''))]);
  }

  /** A watch event: an object (or, rarely, an array) with generated contents. */
  record(): Text {
    if (this.chance(0.1)) return this.longStrings();
    if (this.chance(0.1)) return this.array(1);
    if (this.chance(0.1)) return same(this.pick(['{}', '[]', '{ }', '[\n]']));
    const object = this.object(1);
    const type = this.literal(this.pick(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']));
    return join([same('{'), this.literal('type'), same(':'), type, same(`,${this.ws()}`), this.literal('object'), same(':'), object, same('}')]);
  }

  /** An event whose strings are one byte either side of the limit, ending in an escape or a multi-byte character. */
  longStrings(): Text {
    const limit = Number.isFinite(this.maxString) ? this.maxString : 300;
    const values = [limit - 1, limit, limit + 1, limit + 2].filter((n) => n >= 0).map((n) => this.literal(this.body(n)));
    const key = (name: string): Text => join([this.literal(name), same(':')]);
    return join([same('{'), key('type'), this.literal('MODIFIED'), same(','), key('object'), same('{'), key('status'), same('{'), key('results'), this.container('[', ']', values), same('}}}')]);
  }

  /** A plain string, emptied like any other when over the limit. */
  literal(body: string): Text {
    return { written: `"${body}"`, handed: Buffer.byteLength(body) > this.maxString ? '""' : `"${body}"` };
  }
}

function same(text: string): Text {
  return { written: text, handed: text };
}

function join(parts: Text[]): Text {
  return { written: parts.map((p) => p.written).join(''), handed: parts.map((p) => p.handed).join('') };
}

interface Stream {
  bytes: Buffer;
  /** Each record's bytes as they must be handed over. */
  records: Buffer[];
  /** Byte offsets where records begin and end: the boundaries every split around is tried. */
  edges: number[];
  /** For a list: the list without its items. */
  rest?: unknown;
}

function watchStream(g: Generator, count: number): Stream {
  let text = g.ws();
  const records: Buffer[] = [];
  const edges: number[] = [];
  for (let i = 0; i < count; i++) {
    const record = g.record();
    edges.push(Buffer.byteLength(text));
    text += record.written;
    edges.push(Buffer.byteLength(text));
    text += g.chance(0.7) ? '\n' : g.ws();
    records.push(Buffer.from(record.handed));
  }
  return { bytes: Buffer.from(text), records, edges };
}

function listStream(g: Generator, count: number): Stream {
  const records: Buffer[] = [];
  const edges: number[] = [];
  const fields = [
    `"kind"${g.ws()}:${g.ws()}"TaskRunList"`,
    `"metadata":{"resourceVersion":"${g.int(1e6)}",${g.ws()}"continue":${g.string().written}}`,
    `"apiVersion":"tekton.dev/v1"`,
    'ITEMS',
  ].sort(() => g.int(3) - 1);
  let text = `${g.ws()}{${g.ws()}`;
  fields.forEach((field, f) => {
    if (f > 0) text += `${g.ws()},${g.ws()}`;
    if (field !== 'ITEMS') {
      text += field;
      return;
    }
    text += `"items"${g.ws()}:${g.ws()}[${g.ws()}`;
    for (let i = 0; i < count; i++) {
      if (i > 0) text += `${g.ws()},${g.ws()}`;
      const record = g.chance(0.5) ? g.object(1) : g.record();
      edges.push(Buffer.byteLength(text));
      text += record.written;
      edges.push(Buffer.byteLength(text));
      records.push(Buffer.from(record.handed));
    }
    text += `${g.ws()}]`;
  });
  text += `${g.ws()}}${g.ws()}`;
  const whole = JSON.parse(text) as Record<string, unknown>;
  return { bytes: Buffer.from(text), records, edges, rest: { ...whole, items: [] } };
}

/** Runs the tokenizer over `chunks`; the records it handed over, and what end() returned. */
function tokenize(layout: RecordLayout, maxString: number, chunks: Buffer[]): { records: Buffer[]; rest: unknown } {
  const records: Buffer[] = [];
  const tokenizer = new JsonRecords(layout, (json) => records.push(Buffer.from(json)), maxString);
  for (const chunk of chunks) tokenizer.push(chunk);
  return { records, rest: tokenizer.end() };
}

function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [0, ...at.filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b), bytes.length];
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) chunks.push(bytes.subarray(points[i - 1], points[i]));
  return chunks;
}

/** Every split point for small streams; for large ones many random ones and every one near a record's edges. */
function splitPoints(g: Generator, stream: Stream): number[] {
  const n = stream.bytes.length;
  if (n <= 2000) return Array.from({ length: n + 1 }, (_, i) => i);
  const points = new Set<number>();
  for (let i = 0; i < (n > 100_000 ? 100 : 200); i++) points.add(g.int(n + 1));
  for (const edge of stream.edges) for (let d = -4; d <= 4; d++) points.add(Math.min(n, Math.max(0, edge + d)));
  return [...points];
}

function check(label: string, layout: RecordLayout, g: Generator, stream: Stream): void {
  const expect = (chunks: Buffer[], how: string): void => {
    const { records, rest } = tokenize(layout, g.maxString, chunks);
    assert.equal(records.length, stream.records.length, `${label}, ${how}: record count`);
    records.forEach((record, i) => {
      if (!record.equals(stream.records[i] as Buffer)) {
        assert.fail(`${label}, ${how}: record ${i} differs\n got:  ${record.toString('utf8').slice(0, 300)}\n want: ${(stream.records[i] as Buffer).toString('utf8').slice(0, 300)}`);
      }
    });
    if (layout === 'list') assert.deepEqual(rest, stream.rest, `${label}, ${how}: the rest of the list`);
  };
  // The records parse, and to what JSON.parse makes of them as written with long strings emptied.
  const whole = tokenize(layout, g.maxString, [stream.bytes]).records;
  whole.forEach((record, i) => assert.deepEqual(JSON.parse(record.toString('utf8')), JSON.parse((stream.records[i] as Buffer).toString('utf8')), `${label}: record ${i}`));
  for (const at of splitPoints(g, stream)) expect(cut(stream.bytes, [at]), `split at byte ${at}`);
  if (stream.bytes.length <= 2000) expect(cut(stream.bytes, Array.from({ length: stream.bytes.length }, (_, i) => i)), 'byte by byte');
  else expect(cut(stream.bytes, stream.edges.flatMap((e) => Array.from({ length: 64 }, (_, d) => e - 32 + d))), 'byte by byte around each record edge');
  for (let r = 0; r < 10; r++) {
    const at = Array.from({ length: 1 + g.int(30) }, () => g.int(stream.bytes.length + 1));
    expect(cut(stream.bytes, at), `split at ${at.sort((a, b) => a - b).join(',')}`);
  }
}

describe('the JSON record tokenizer, against JSON.parse on generated streams', () => {
  it(`hands over every watch event as written, long strings emptied, however the stream is split (seed ${BASE_SEED})`, () => {
    for (let c = 0; c < 200; c++) {
      const seed = BASE_SEED + c;
      const g = new Generator(seed, [0, 1, 8, 40, 63, 64, 65, 100, 300, Infinity][c % 10] as number);
      check(`JSON_RECORDS_FUZZ_SEED=${BASE_SEED}, case ${c} (seed ${seed}, maxString ${g.maxString})`, 'watch', g, watchStream(g, 1 + g.int(8)));
    }
  });

  it(`hands over every item of a list and keeps the rest, however the response is split (seed ${BASE_SEED})`, () => {
    for (let c = 0; c < 60; c++) {
      const seed = BASE_SEED + 1000 + c;
      const g = new Generator(seed, [0, 16, 64, 65, 200][c % 5] as number);
      check(`JSON_RECORDS_FUZZ_SEED=${BASE_SEED}, list case ${c} (seed ${seed}, maxString ${g.maxString})`, 'list', g, listStream(g, g.int(4)));
    }
  });

  it(`empties strings just over MAX_STRING_BYTES and keeps those at it, wherever the splits fall (seed ${BASE_SEED})`, () => {
    for (let c = 0; c < 4; c++) {
      const seed = BASE_SEED + 2000 + c;
      const g = new Generator(seed, MAX_STRING_BYTES);
      check(`JSON_RECORDS_FUZZ_SEED=${BASE_SEED}, large case ${c} (seed ${seed})`, 'watch', g, watchStream(g, 4));
    }
  });
});

/** Feeds `text` in chunks of `size`; what was handed over, and what push threw (if anything). */
function feed(text: string | Buffer, options: { size?: number; maxString?: number; maxRecord?: number } = {}): { records: string[]; error: unknown } {
  const records: string[] = [];
  const tokenizer = new JsonRecords('watch', (json) => records.push(json.toString('utf8')), options.maxString ?? Infinity, options.maxRecord ?? Infinity);
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const size = options.size ?? bytes.length;
  try {
    for (let i = 0; i < bytes.length; i += size) tokenizer.push(bytes.subarray(i, i + size));
  } catch (error) {
    assert.throws(() => tokenizer.push(Buffer.from('{}')), UnsplittableStream, 'a failed stream stays failed');
    return { records, error };
  }
  return { records, error: undefined };
}

const event = (name: string): string => `${JSON.stringify({ type: 'ADDED', object: { metadata: { name, annotations: { note: 'a } ] " \\ [ {' } } } })}\n`;

describe('the JSON record tokenizer on a stream that is not JSON', () => {
  it('hands over a record that splits but does not parse (a bad escape, a missing value), and goes on', () => {
    const broken = ['{"type":"ADDED","object":{"metadata":{"name":"\\x"}}}\n', '{"type":"ADDED","object":{"a":}}\n', '{"type":"ADDED","object":{"a":tru}}\n'];
    for (const bad of broken) {
      for (const size of [1, 7, 1000]) {
        const { records, error } = feed(event('a') + bad + event('b'), { size });
        assert.equal(error, undefined, bad);
        assert.deepEqual(records, [event('a').trim(), bad.trim(), event('b').trim()], `${bad}, chunk size ${size}`);
      }
    }
  });

  it('refuses to go on where a split could be wrong, after handing over the records before it', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a closing bracket with nothing open', `${event('a')}}\n${event('b')}`, /a closing bracket with nothing open/],
      ['a lost quote (strings turn inside out)', `${event('a')}{"type":"ADDED","object":{"metadata":{"name":"x}}}\n${event('b')}${event('c')}`, /outside a string/],
      ['an event cut short and the next begun', `${event('a')}{"type":"ADDED","object":{"metadata":{"name":"x"\n${event('b')}`, /where no value can start/],
      ['a bare value between events', `${event('a')}42\n${event('b')}`, /not an object between events/],
      ['a string between events', `${event('a')}"x"\n${event('b')}`, /a string between events/],
    ];
    for (const [what, text, reason] of cases) {
      for (const size of [1, 5, 64, 10_000]) {
        const { records, error } = feed(text, { size });
        assert.ok(error instanceof UnsplittableStream, `${what}, chunk size ${size}: ${String(error)}`);
        assert.match(error.message, reason, what);
        assert.match(error.message, /at byte \d+/, what);
        assert.deepEqual(records, [event('a').trim()], `${what}: the event before it is handed over, nothing after`);
      }
    }
  });

  it('refuses a record larger than the limit once its long strings are emptied', () => {
    const big = `{"type":"ADDED","object":{"status":{"results":[${Array.from({ length: 300 }, () => '{"n":"x"}').join(',')}]}}}\n`;
    assert.ok(feed(big, { maxRecord: 1024 }).error instanceof UnsplittableStream);
    assert.equal(feed(big, { maxRecord: big.length }).records.length, 1);
    // Emptied strings do not count: a megabyte of results fits in a small limit.
    const results = `{"type":"ADDED","object":{"status":{"results":[{"value":"${'r'.repeat(1 << 20)}"}]}}}\n`;
    assert.deepEqual(feed(results, { size: 4096, maxString: 64, maxRecord: 1024 }).records, ['{"type":"ADDED","object":{"status":{"results":[{"value":""}]}}}']);
  });

  it('keeps a string of any length whole when there is no limit, even one byte at a time', () => {
    const text = `{"v":"${'a'.repeat(200_000)}"}`;
    const { records, error } = feed(text, { size: 1 });
    assert.equal(error, undefined);
    assert.equal(records[0], text);
  });

  it(`on generated streams with one byte changed, hands over the records before it and fails, if at all, with UnsplittableStream (seed ${BASE_SEED})`, () => {
    const replacements = Buffer.from('"\\{}[],: x0\n');
    for (let c = 0; c < 300; c++) {
      const seed = BASE_SEED + 3000 + c;
      const g = new Generator(seed, [8, 64, Infinity][c % 3] as number);
      const stream = watchStream(g, 2 + g.int(6));
      const at = g.int(stream.bytes.length);
      const change = g.int(3);
      const replacement = replacements.subarray(g.int(replacements.length)).subarray(0, 1);
      const bytes = Buffer.concat([stream.bytes.subarray(0, at), change === 1 ? Buffer.alloc(0) : replacement, stream.bytes.subarray(change === 2 ? at : at + 1)]);
      const label = `JSON_RECORDS_FUZZ_SEED=${BASE_SEED}, corrupted case ${c} (seed ${seed}): ${['replaced', 'deleted', 'inserted'][change]} at byte ${at}`;
      const { records, error } = feed(bytes, { size: 1 + g.int(100), maxString: g.maxString });
      assert.ok(error === undefined || error instanceof UnsplittableStream, `${label}: ${String(error)}`);
      // Every record that ended before the changed byte is handed over as it was; and where the
      // stream did not fail, so is every record after the one changed (the split stayed right).
      const want = stream.records.map((r) => r.toString('utf8'));
      const changed = stream.edges.filter((edge, e) => e % 2 === 1 && edge <= at).length;
      assert.deepEqual(records.slice(0, changed), want.slice(0, changed), label);
      if (error === undefined) {
        const last = changed === want.length - 1 && records.length === want.length - 1;
        assert.equal(records.length, last ? want.length - 1 : want.length, `${label}: record count`);
        assert.deepEqual(records.slice(changed + 1), want.slice(changed + 1), `${label}: the records after the change`);
      }
    }
  });
});
