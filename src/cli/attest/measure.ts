// The TaskRun's model outputs, measured by streaming them from storage ourselves. The hints only
// say where to look: an output outside the allowed prefixes, or a reported digest that differs
// from the measured one, is a refusal. (The same rule as the operator's reconcile/measure.ts.)
import { digestStorage, type ModelDigest } from '../../digest/index.ts';
import { isUnderPrefix } from '../../layout/index.ts';
import { withFileList } from '../../policy/index.ts';
import { modelSubject, readTypeHints, type Subject, type TaskRun } from '../../provenance/index.ts';
import type { Storage } from '../../storage/index.ts';
import { InputError, RefusedError } from '../errors.ts';

export interface MeasuredOutput {
  readonly uri: string;
  readonly subject: Subject;
  readonly digest: ModelDigest;
}

export function outputSchemes(allowedPrefixes: readonly string[]): string[] {
  return [...new Set(allowedPrefixes.map((p) => p.slice(0, p.indexOf(':'))))];
}

export async function measureOutputs(taskRun: TaskRun, storage: Storage, allowedPrefixes: readonly string[]): Promise<MeasuredOutput[]> {
  const hints = readTypeHints(taskRun, { outputSchemes: outputSchemes(allowedPrefixes) });
  const outputs = hints.outputs.filter((o) => o.isBuildArtifact);
  if (outputs.length === 0) throw new InputError('NO_OUTPUTS', 'the TaskRun reports no model output marked isBuildArtifact: "true"');
  for (const output of outputs) {
    if (!isUnderPrefix(output.uri, allowedPrefixes)) {
      throw new RefusedError('PREFIX_NOT_ALLOWED', `result ${output.resultName}: ${output.uri} is outside the allowed prefixes (${allowedPrefixes.join(', ')})`);
    }
  }
  const measured: MeasuredOutput[] = [];
  for (const output of outputs) {
    const digest = await digestStorage(storage, output.uri);
    if (output.digest && output.digest.hex !== digest.sha256) {
      throw new RefusedError('DIGEST_MISMATCH',
        `result ${output.resultName}: reported sha256:${output.digest.hex} but ${output.uri} measures sha256:${digest.sha256}`);
    }
    // The file list lets verify name added, removed and renamed files (see src/policy/model-files.ts).
    measured.push({ uri: output.uri, subject: withFileList(modelSubject(output.uri, digest), digest), digest });
  }
  return measured;
}
