// Summarises a V8 .cpuprofile (node --cpu-prof) by where the time went: self time per package
// (node_modules/<name>), per file of ours, per Node internal, plus GC and idle, as shares of the
// profile's busy time.
//   node bench/lib/profile-summary.ts FILE.cpuprofile [--top 25] [--by package|file|function]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

type By = 'package' | 'file' | 'function' | 'category';

const SYSCALLS = /^(writev|writeLatin1String|writeUtf8String|writeString|writeBuffer|readStart|readStop)$/;
/** Broad kinds of work by script URL, first match wins; for the README's "what dominates". */
const CATEGORIES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^wasm:\/\/|^node:internal\/(modules|bootstrap|deps)/, 'module loading'],
  [/node_modules\/(pino|sonic-boom|@pinojs|pino-std-serializers)/, 'logging (pino)'],
  [/node_modules\/@sigstore/, 'sigstore bundle/verify libraries'],
  [/node_modules\/yaml/, 'YAML'],
  [/^node:(internal\/crypto|crypto$)/, 'crypto (ECDSA, SHA-256, HMAC, MD5)'],
  [/^node:(_http|http|https|net|tls|_tls|events|buffer|internal\/(streams|stream_base|url|http|net|abort_controller|timers|event_target|per_context|process\/task_queues|tls|buffer))/, 'HTTP client, sockets, streams, timers (Node)'],
];

function nativeCategory(functionName: string): string {
  if (functionName === '(idle)') return '(idle)';
  if (SYSCALLS.test(functionName)) return 'socket and pipe writes (syscalls; under CPU contention these samples include time descheduled)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (/^(parse|stringify)$/.test(functionName)) return 'JSON parse/stringify';
  return `other native (${functionName})`;
}

function categoryOf(url: string, functionName: string): string {
  if (!url) return nativeCategory(functionName);
  const known = CATEGORIES.find(([re]) => re.test(url));
  if (known) return known[1];
  if (url.startsWith('node:')) return `other Node (${url.slice(5).split('/').slice(0, 2).join('/')})`;
  const ours = /\/(operator|src)\/([^/]+)/.exec(url);
  return ours ? `ours: ${ours[1]}/${ours[2]}` : (url.replace(/^.*node_modules\//, '').split('/')[0] ?? url);
}

function pathOf(url: string, by: 'package' | 'file'): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return by === 'package' ? pkg : url.replace(/^.*node_modules\//, '');
  if (url.startsWith('node:')) return by === 'package' ? `node:${url.slice(5).split('/')[1] ?? url.slice(5)}` : url;
  return url.replace(/^file:\/\/.*?\/(operator|src|bench|hack)\//, '$1/');
}

export function bucketOf(frame: Node['callFrame'], by: By): string {
  const { url, functionName } = frame;
  if (by === 'category') return categoryOf(url, functionName);
  if (!url) return /^\((program|garbage collector|idle)\)$/.test(functionName) ? functionName : `(native) ${functionName || '?'}`;
  if (by === 'function') return `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/|work\/[^/]+\/)/, '')}:${frame.lineNumber + 1}`;
  return pathOf(url, by);
}

export function summarise(profile: Profile, by: By): { total: number; rows: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const time = new Map<string, number>();
  for (const [i, id] of profile.samples.entries()) {
    const node = byId.get(id);
    if (!node) continue;
    const key = bucketOf(node.callFrame, by);
    time.set(key, (time.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  time.delete('(idle)');
  const total = [...time.values()].reduce((a, b) => a + b, 0);
  return { total: total / 1000, rows: [...time.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]): [string, number] => [k, v / 1000]) };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, by: { type: 'string', default: 'package' } } });
  for (const file of positionals) {
    const { total, rows } = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, values.by as By);
    console.log(`${file}: ${total.toFixed(0)} ms busy`);
    for (const [k, ms] of rows.slice(0, Number(values.top))) console.log(`  ${(ms / total * 100).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(6)} ms  ${k}`);
  }
}
