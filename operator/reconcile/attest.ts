// Attests one finished TaskRun: facts from its Pod and Node, outputs measured by us, one signed
// statement per model, stored next to the model and read back.
import { buildStatement, serializeStatement, type ProvenanceSettings, type TaskRun as ProvenanceTaskRun } from '../../src/provenance/index.ts';
import { signStatement, type Signer } from '../../src/signing/index.ts';
import type { Storage } from '../../src/storage/index.ts';
import type { ClusterFacts, TaskRun } from '../kube/index.ts';
import { measureOutputs, outputSchemes, type MeasureSettings } from '../../src/attest/index.ts';
import { storeProvenance } from './store.ts';

export interface AttestDeps {
  readonly facts: ClusterFacts;
  readonly storage: Storage;
  readonly signer: Signer;
  readonly settings: MeasureSettings & { readonly provenance: ProvenanceSettings };
}

/** Returns the URIs of the stored Sigstore bundles, one per model. */
export async function attest(deps: AttestDeps, tr: TaskRun): Promise<string[]> {
  const run = tr as unknown as ProvenanceTaskRun;
  const pod = await deps.facts.pod(tr.metadata.namespace, tr.status?.podName);
  const node = await deps.facts.node(pod?.spec?.nodeName);
  const outputs = await measureOutputs(run, deps.storage, deps.settings);
  const settings: ProvenanceSettings = { ...deps.settings.provenance, outputSchemes: outputSchemes(deps.settings.allowedPrefixes) };
  const bundles: string[] = [];
  for (const output of outputs) {
    const statement = buildStatement({
      taskRun: run,
      ...(pod ? { pod } : {}),
      ...(node ? { node } : {}),
      settings,
      subjects: [output.subject],
    });
    const signed = await signStatement(serializeStatement(statement), deps.signer);
    const stored = await storeProvenance(deps.storage, output.uri, signed, { invocationId: tr.metadata.uid, sha256: output.digest.sha256 });
    bundles.push(stored.bundle);
  }
  return bundles;
}
