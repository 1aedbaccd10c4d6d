// Picks the model outputs from the type hints and measures each one ourselves by streaming it
// from storage. A hint only says where to look: a reported digest that differs is a refusal.
import { digestStorage, type ModelDigest } from '../../src/digest/index.ts';
import { isUnderPrefix } from '../../src/layout/index.ts';
import { modelSubject, readTypeHints, type Subject, type TaskRun } from '../../src/provenance/index.ts';
import type { Storage } from '../../src/storage/index.ts';
import { ReconcileFailure } from './failure.ts';

export interface MeasureSettings {
  readonly allowedPrefixes: readonly string[];
  readonly digestConcurrency: number;
}

export interface MeasuredOutput {
  readonly uri: string;
  readonly subject: Subject;
  readonly digest: ModelDigest;
}

export function outputSchemes(allowedPrefixes: readonly string[]): string[] {
  return [...new Set(allowedPrefixes.map((p) => p.slice(0, p.indexOf(':'))))];
}

export async function measureOutputs(tr: TaskRun, storage: Storage, settings: MeasureSettings): Promise<MeasuredOutput[]> {
  const hints = readTypeHints(tr, { outputSchemes: outputSchemes(settings.allowedPrefixes) });
  const outputs = hints.outputs.filter((o) => o.isBuildArtifact);
  if (outputs.length === 0) throw new ReconcileFailure('MALFORMED_HINT', 'no output is marked isBuildArtifact: "true"');
  for (const output of outputs) {
    if (!isUnderPrefix(output.uri, settings.allowedPrefixes)) {
      throw new ReconcileFailure('PREFIX_NOT_ALLOWED', `result ${output.resultName}: ${output.uri} is outside the allowed storage prefixes`);
    }
  }
  const measured: MeasuredOutput[] = [];
  for (const output of outputs) {
    const digest = await digestStorage(storage, output.uri, { concurrency: settings.digestConcurrency });
    if (output.digest && output.digest.hex !== digest.sha256) {
      throw new ReconcileFailure('DIGEST_MISMATCH',
        `result ${output.resultName}: reported sha256:${output.digest.hex} but ${output.uri} measures sha256:${digest.sha256}`);
    }
    measured.push({ uri: output.uri, subject: modelSubject(output.uri, digest), digest });
  }
  return measured;
}
