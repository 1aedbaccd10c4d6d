// Whether the subject that matched the model's bytes also names the model: a genuine bundle copied
// next to a byte-identical model at another path verifies (cosign matches subjects by digest
// alone), but its subject still names where the operator measured the model. For a gs:// or
// file:// model the subject's URI (or, without one, its name as the tail of the model's path) must
// be the model's; for a local path only the file name can be compared (a download keeps it). A
// mismatch is a warning, and a failure with --strict.
import type { ModelDigest } from '../../digest/index.ts';
import { failed, passed, warned, type StatementCheck } from '../../verify/index.ts';
import type { ModelTarget } from '../model-target.ts';

interface Named {
  readonly name?: unknown;
  readonly uri?: unknown;
  readonly digest?: { readonly sha256?: unknown };
}

export function subjectNameCheck(model: ModelTarget, measure: () => Promise<ModelDigest>, strict: boolean): StatementCheck {
  return {
    name: 'subjectName',
    async evaluate(statement) {
      const sha256 = (await measure()).sha256.toLowerCase();
      const matching = (statement.subject as readonly Named[]).filter((s) => typeof s.digest?.sha256 === 'string' && s.digest.sha256.toLowerCase() === sha256);
      if (matching.length === 0) return passed('no subject has these bytes (see subject)');
      if (matching.some((s) => namesModel(s, model))) return passed(`a subject names ${model.localPath === undefined ? model.uri : lastSegment(model.localPath)}`);
      const named = matching.map((s) => (typeof s.uri === 'string' ? s.uri : String(s.name))).join(', ');
      const why = `the subject with these bytes names ${named}, not ${model.localPath ?? model.uri}: this provenance was made for a model at another path (the bytes are the same)`;
      return strict ? failed('SUBJECT_NAME_MISMATCH', why) : warned(`${why}; --strict refuses this`);
    },
  };
}

function namesModel(subject: Named, model: ModelTarget): boolean {
  const name = typeof subject.name === 'string' ? trimSlash(subject.name) : '';
  if (model.localPath !== undefined) return name !== '' && lastSegment(name) === lastSegment(model.localPath);
  if (typeof subject.uri === 'string') return trimSlash(subject.uri) === trimSlash(model.uri);
  const path = trimSlash(model.uri);
  return name !== '' && (path === name || path.endsWith(`/${name}`));
}

function trimSlash(text: string): string {
  return text.replace(/\/+$/, '');
}

function lastSegment(path: string): string {
  return trimSlash(path).split('/').pop() ?? '';
}
