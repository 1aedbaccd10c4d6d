// A Kubernetes object saved by `kubectl get … -o yaml` (or -o json), read once and checked for
// the kind attest expects. YAML is a superset of JSON, so one parser reads both.
import { parseAllDocuments } from 'yaml';

import { InputError, UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { readUserFile } from '../local-files.ts';

export type KubeObject = Record<string, unknown>;

export async function readKubeObject(flag: string, path: string, kind: string, io: CliIo): Promise<KubeObject> {
  const where = `${flag} ${path}`;
  const items = await readKubeObjects(flag, path, io);
  if (items.length !== 1) throw new InputError('BAD_KUBE_OBJECT', `${where}: holds ${items.length} objects; give exactly one ${kind}`);
  const object = items[0] as KubeObject;
  if (object.kind !== kind) throw new InputError('BAD_KUBE_OBJECT', `${where}: is a ${kindOf(object)}, want ${kind}`);
  return object;
}

/**
 * Every object in a file: YAML documents (`---`) or JSON, each `kind: List` (what
 * `kubectl get … -o yaml` writes for a selection) unwrapped into its items.
 */
export async function readKubeObjects(flag: string, path: string, io: CliIo): Promise<KubeObject[]> {
  const text = path === '-' ? await readStdin(io) : (await readUserFile(flag, path, io)).toString('utf8');
  const where = `${flag} ${path}`;
  // parseAllDocuments never throws: every document carries its own errors.
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new InputError('BAD_KUBE_OBJECT', `${where}: not YAML or JSON`);
  const values: unknown[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) throw new InputError('BAD_KUBE_OBJECT', `${where}: not valid YAML or JSON: ${error.message.split('\n')[0] ?? ''}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  const items = values.flatMap(unwrapList);
  for (const item of items) if (!isRecord(item)) throw new InputError('BAD_KUBE_OBJECT', `${where}: not a Kubernetes object`);
  return items as KubeObject[];
}

/** The kind as the file gives it, quoted, for messages. */
export function kindOf(object: KubeObject): string {
  return JSON.stringify(object.kind ?? 'object without a kind');
}

// `kubectl get taskruns -o yaml` wraps even one object in a List.
function unwrapList(value: unknown): unknown[] {
  return isRecord(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
}

async function readStdin(io: CliIo): Promise<string> {
  if (!io.stdin) throw new UsageError('"-" (standard input) is not available here');
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
