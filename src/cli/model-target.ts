// What `<model>` on the command line names: a local file or directory, a file:// URI, a gs://
// object or a gs:// prefix ("directory" model). Resolved once, checked to exist, and turned
// into the URI that provenance lives next to.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { digestLocalPath, digestStorage, type DigestOptions, type ModelDigest } from '../digest/index.ts';
import { parseStorageUri, type Storage } from '../storage/index.ts';
import { InputError, UsageError } from './errors.ts';
import { describeFsError } from './local-files.ts';

export interface ModelTarget {
  /** As the user wrote it. */
  readonly display: string;
  /** gs://… or file:///…; a directory model's URI ends in "/". */
  readonly uri: string;
  readonly directory: boolean;
  /** Set for local models, which are hashed from disk (in worker threads when large). */
  readonly localPath?: string;
}

export async function resolveModel(arg: string, storage: Storage, cwd: string): Promise<ModelTarget> {
  if (arg.startsWith('gs://')) return resolveGs(arg, storage);
  if (arg.startsWith('file:')) return resolveLocal(arg, fileUrlPath(arg), arg.endsWith('/'));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(arg)?.[1];
  if (scheme !== undefined) throw new UsageError(`model ${arg}: ${scheme}:// is not supported; give a local path, a file:// URI or a gs:// URI`);
  return resolveLocal(arg, resolve(cwd, arg), arg.endsWith('/'));
}

export function measureModel(model: ModelTarget, storage: Storage, opts: DigestOptions): Promise<ModelDigest> {
  return model.localPath === undefined ? digestStorage(storage, model.uri, opts) : digestLocalPath(model.localPath, opts);
}

async function resolveLocal(display: string, path: string, wantDirectory: boolean): Promise<ModelTarget> {
  let isDirectory: boolean;
  try {
    const st = await stat(path);
    if (!st.isFile() && !st.isDirectory()) throw new InputError('MODEL_UNSUPPORTED', `model ${display}: neither a file nor a directory`);
    isDirectory = st.isDirectory();
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('MODEL_NOT_FOUND', `model ${display}: ${describeFsError(err)}`, { cause: err });
  }
  if (wantDirectory && !isDirectory) throw new InputError('MODEL_NOT_FOUND', `model ${display}: is a file, not a directory`);
  const href = pathToFileURL(path).href.replace(/\/+$/, '');
  return { display, uri: isDirectory ? `${href}/` : href, directory: isDirectory, localPath: path };
}

function fileUrlPath(uri: string): string {
  try {
    parseStorageUri(uri);
    return fileURLToPath(uri);
  } catch (err) {
    throw new UsageError(`model ${uri}: ${(err as Error).message}`, { cause: err });
  }
}

// "gs://b/saved_model" without the slash is accepted for a prefix when no object has that name.
async function resolveGs(uri: string, storage: Storage): Promise<ModelTarget> {
  try {
    const loc = parseStorageUri(uri);
    if (loc.scheme === 'gs' && loc.key === '') throw new UsageError(`model ${uri}: name an object or a prefix inside the bucket`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`model ${uri}: ${(err as Error).message}`, { cause: err });
  }
  if (uri.endsWith('/')) {
    if (await hasObjectsUnder(storage, uri)) return { display: uri, uri, directory: true };
    throw new InputError('MODEL_NOT_FOUND', `model ${uri}: no objects under this prefix`);
  }
  if (await storage.stat(uri)) return { display: uri, uri, directory: false };
  if (await hasObjectsUnder(storage, `${uri}/`)) return { display: uri, uri: `${uri}/`, directory: true };
  throw new InputError('MODEL_NOT_FOUND', `model ${uri}: no such object, and no objects under ${uri}/`);
}

async function hasObjectsUnder(storage: Storage, prefix: string): Promise<boolean> {
  for await (const _ of storage.list(prefix)) return true;
  return false;
}
