// The files of a directory model by name. The subject digest of a directory (model-signing v1.0
// root digest) chains only the files' digests, so renaming a file without changing the order
// keeps it: a subject that also lists its files (annotation slsa-ml.dev/files, in canonical
// order, as model-signing's predicate lists its resources) lets verify catch that, and say
// exactly which files were added, removed, renamed or changed.
import { ANNOTATION } from '../provenance/index.ts';
import { failed, passed, type CheckOutcome, type InTotoStatement, type StatementCheck, type StatementSubject } from '../verify/index.ts';

// Written by modelSubject (src/provenance) for every directory model.
export const FILES_ANNOTATION = ANNOTATION.files;

export interface ModelFile {
  readonly path: string;
  readonly sha256: string;
}

export interface MeasuredFiles {
  readonly sha256: string;
  readonly files?: ReadonlyArray<ModelFile>;
}

export interface FileChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly renamed: Array<{ from: string; to: string }>;
}

export function recordedFiles(subject: StatementSubject): ModelFile[] | undefined {
  const list = subject.annotations?.[FILES_ANNOTATION];
  if (!Array.isArray(list)) return undefined;
  const files: ModelFile[] = [];
  for (const item of list as unknown[]) {
    const { path, sha256 } = (item ?? {}) as { path?: unknown; sha256?: unknown };
    if (typeof path !== 'string' || typeof sha256 !== 'string') return undefined;
    files.push({ path, sha256: sha256.toLowerCase() });
  }
  return files;
}

export function diffFiles(recorded: readonly ModelFile[], measured: readonly ModelFile[]): FileChanges {
  const before = new Map(recorded.map((f) => [f.path, f.sha256]));
  const after = new Map(measured.map((f) => [f.path, f.sha256]));
  const changed = [...after].filter(([path, sha]) => before.has(path) && before.get(path) !== sha).map(([path]) => path);
  let removed = [...before.keys()].filter((p) => !after.has(p));
  let added = [...after.keys()].filter((p) => !before.has(p));
  const renamed: Array<{ from: string; to: string }> = [];
  for (const from of removed) {
    const to = added.find((p) => after.get(p) === before.get(from));
    if (to !== undefined) {
      renamed.push({ from, to });
      added = added.filter((p) => p !== to);
    }
  }
  removed = removed.filter((p) => !renamed.some((r) => r.from === p));
  return { added, removed, changed, renamed };
}

/** Compares the directory's files with those the provenance lists, by name and digest. */
export function modelFilesCheck(measure: () => Promise<MeasuredFiles>): StatementCheck {
  return { name: 'files', evaluate: async (statement) => filesOutcome(statement, await measure()) };
}

function filesOutcome(statement: InTotoStatement, measured: MeasuredFiles): CheckOutcome {
  if (!measured.files) return passed('a single file');
  const listed = statement.subject.flatMap((s) => {
    const files = recordedFiles(s);
    return files ? [{ subject: s, files }] : [];
  });
  const target = listed.find((l) => l.subject.digest.sha256?.toLowerCase() === measured.sha256) ?? (listed.length === 1 ? listed[0] : undefined);
  if (!target) return passed('the provenance lists no file names (only the root digest binds the files)');
  const changes = diffFiles(target.files, measured.files);
  const parts = [
    ...changes.added.map((p) => `added ${p}`),
    ...changes.removed.map((p) => `removed ${p}`),
    ...changes.renamed.map((r) => `renamed ${r.from} to ${r.to}`),
    ...changes.changed.map((p) => `changed ${p}`),
  ];
  if (parts.length === 0) return passed(`${measured.files.length} files as signed`);
  return failed('FILES_MISMATCH', parts.join(', '));
}
