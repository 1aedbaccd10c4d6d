// The model outputs of a finished TaskRun, measured by streaming them from storage ourselves.
// The type hints only say where to look: an output outside the allowed prefixes, or a reported
// digest that differs from the measured one, is a refusal. Shared by the operator and `slsa-ml attest`.
import { digestStorage, type ModelDigest } from '../digest/index.ts';
import { isUnderPrefix } from '../layout/index.ts';
import { modelSubject, readTypeHints, type Subject, type TaskRun } from '../provenance/index.ts';
import type { Storage } from '../storage/index.ts';
import { AttestError } from './errors.ts';

export interface MeasureSettings {
  readonly allowedPrefixes: readonly string[];
  readonly digestConcurrency?: number;
}

export interface MeasuredOutput {
  readonly uri: string;
  readonly subject: Subject;
  readonly digest: ModelDigest;
}

/** The URI schemes the allowed prefixes use: the only ones an output hint may name. */
export function outputSchemes(allowedPrefixes: readonly string[]): string[] {
  return [...new Set(allowedPrefixes.map((p) => p.slice(0, p.indexOf(':'))))];
}

export async function measureOutputs(taskRun: TaskRun, storage: Storage, settings: MeasureSettings): Promise<MeasuredOutput[]> {
  const { allowedPrefixes } = settings;
  const hints = readTypeHints(taskRun, { outputSchemes: outputSchemes(allowedPrefixes) });
  const outputs = hints.outputs.filter((o) => o.isBuildArtifact);
  if (outputs.length === 0) throw new AttestError('NO_OUTPUTS', 'the TaskRun reports no model output marked isBuildArtifact: "true"');
  for (const output of outputs) {
    if (!isUnderPrefix(output.uri, allowedPrefixes)) {
      throw new AttestError('PREFIX_NOT_ALLOWED', `result ${output.resultName}: ${output.uri} is outside the allowed prefixes (${allowedPrefixes.join(', ')})`);
    }
  }
  const measured: MeasuredOutput[] = [];
  for (const output of outputs) {
    const digest = await digestStorage(storage, output.uri, settings.digestConcurrency ? { concurrency: settings.digestConcurrency } : {});
    if (output.digest && output.digest.hex !== digest.sha256) {
      throw new AttestError('DIGEST_MISMATCH',
        `result ${output.resultName}: reported sha256:${output.digest.hex} but ${output.uri} measures sha256:${digest.sha256}`);
    }
    measured.push({ uri: output.uri, subject: modelSubject(output.uri, digest), digest });
  }
  return measured;
}
