// Subjects are the models the operator measured itself; hints only say where to look.
// cosign (verify-blob-attestation) and sigstore-go match a subject by its sha256 alone, so the
// name is free to be the model's object path.
import { ANNOTATION, DIRECTORY_HASH_METHOD } from './constants.ts';
import { isSha256Hex } from './digest-syntax.ts';
import { ProvenanceError } from './errors.ts';
import { isRecord, toJson } from './json.ts';
import type { Subject } from './types.ts';
import { objectPath } from './uri-syntax.ts';

/** The measurement of one model (structurally a subset of src/digest's ModelDigest). */
export interface MeasuredModel {
  kind: 'file' | 'directory';
  sha256: string;
  fileCount: number;
  /** A directory's files in canonical order; recorded so verify can name renamed files. */
  files?: ReadonlyArray<{ path: string; sha256: string }>;
}

/** The subject for a model at `uri` (gs://bucket/key or gs://bucket/prefix/ for a directory). */
export function modelSubject(uri: string, measured: MeasuredModel): Subject {
  const { name, ...rest } = namedModelSubject(objectPath(uri), measured);
  return { name, uri, ...rest };
}

/** The subject for a model known by name only (e.g. a file a GitHub workflow produced). */
export function namedModelSubject(name: string, measured: MeasuredModel): Subject {
  const subject: Subject = { name, digest: { sha256: measured.sha256 } };
  if (measured.kind === 'directory') {
    subject.annotations = {
      [ANNOTATION.kind]: 'directory',
      [ANNOTATION.hashMethod]: DIRECTORY_HASH_METHOD,
      [ANNOTATION.fileCount]: measured.fileCount,
    };
    if (measured.files) subject.annotations[ANNOTATION.files] = measured.files.map((f) => ({ path: f.path, sha256: f.sha256 }));
  }
  return subject;
}

/** Validated copies of the caller's subjects, sorted by name then URI so order never matters. */
export function checkedSubjects(subjects: readonly Subject[]): Subject[] {
  if (!Array.isArray(subjects) || subjects.length === 0) {
    throw new ProvenanceError('NO_SUBJECTS', 'a statement needs at least one subject');
  }
  const copies = subjects.map(checkedSubject);
  copies.sort((a, b) => compare(a.name, b.name) || compare(a.uri ?? '', b.uri ?? ''));
  copies.forEach((s, i) => {
    const prev = copies[i - 1];
    if (prev && prev.name === s.name && prev.uri === s.uri) {
      throw new ProvenanceError('BAD_SUBJECT', `subject ${JSON.stringify(s.name)} is listed twice`);
    }
  });
  return copies;
}

function checkedSubject(subject: Subject, i: number): Subject {
  const where = `subjects[${i}]`;
  if (!isRecord(subject) || typeof subject.name !== 'string' || subject.name === '') {
    throw new ProvenanceError('BAD_SUBJECT', `${where}: name must be a non-empty string`);
  }
  const sha256 = isRecord(subject.digest) ? subject.digest.sha256 : undefined;
  if (typeof sha256 !== 'string' || !isSha256Hex(sha256)) {
    throw new ProvenanceError('BAD_SUBJECT', `${where} (${subject.name}): digest.sha256 must be 64 lowercase hex characters`);
  }
  const copy: Subject = { name: subject.name, digest: { sha256 } };
  if (subject.uri !== undefined) {
    if (typeof subject.uri !== 'string') throw new ProvenanceError('BAD_SUBJECT', `${where}: uri must be a string`);
    copy.uri = subject.uri;
  }
  if (subject.annotations !== undefined) {
    const annotations = toJson(subject.annotations, `${where}.annotations`);
    if (!isRecord(annotations)) throw new ProvenanceError('BAD_SUBJECT', `${where}: annotations must be an object`);
    copy.annotations = annotations;
  }
  return copy;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
