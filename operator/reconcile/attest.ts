// Attests one finished TaskRun: facts from its own Pod and Node, outputs measured by us, one
// signed statement per model. Everything that can refuse the run (prefixes, object ages, sizes,
// what already sits at the provenance names) is checked before the first object is written.
import { buildStatement, serializeStatement, type ProvenanceSettings, type TaskRun as ProvenanceTaskRun } from '../../src/provenance/index.ts';
import { signStatement, type Signer } from '../../src/signing/index.ts';
import type { Storage } from '../../src/storage/index.ts';
import type { SignatureVerifier } from '../../src/verify/index.ts';
import type { ClusterFacts, TaskRun } from '../kube/index.ts';
import { AttestError, measureOutputs, outputSchemes, prefixesFor, type MeasureSettings } from '../../src/attest/index.ts';
import { runFacts } from './run-facts.ts';
import { hasOurBundle, inspectSlots, writeSlots, type InspectedSlots } from './store.ts';

export interface AttestSettings extends MeasureSettings {
  readonly provenance: ProvenanceSettings;
  /** Largest serialized statement; checked before signing. */
  readonly maxStatementBytes: number;
}

export interface AttestDeps {
  readonly facts: ClusterFacts;
  readonly storage: Storage;
  readonly signer: Signer;
  readonly ownVerifier: SignatureVerifier | undefined;
  readonly settings: AttestSettings;
}

export interface Attested {
  /** URIs of the stored Sigstore bundles, one per model. */
  readonly bundles: string[];
  readonly warnings: string[];
}

export async function attest(deps: AttestDeps, tr: TaskRun): Promise<Attested> {
  const run = tr as unknown as ProvenanceTaskRun;
  const { settings } = deps;
  const facts = await runFacts(deps.facts, tr);
  const outputs = await measureOutputs(run, deps.storage, settings);
  const provenance: ProvenanceSettings = { ...settings.provenance, outputSchemes: outputSchemes(prefixesFor(settings.allowedPrefixes, tr.metadata.namespace)) };
  const statements = outputs.map((output) => {
    const payload = serializeStatement(buildStatement({ taskRun: run, ...facts, settings: provenance, subjects: [output.subject] }));
    if (payload.length > settings.maxStatementBytes) {
      throw new AttestError('STATEMENT_TOO_LARGE', `the provenance for ${output.uri} would be ${payload.length} bytes, over limits.statementBytes (${settings.maxStatementBytes})`);
    }
    return { output, payload, expect: { invocationId: tr.metadata.uid, sha256: output.digest.sha256 } };
  });
  // Twice the statement (base64 in the bundle) and room for certificates and log entries.
  const ctx = { storage: deps.storage, ownVerifier: deps.ownVerifier, maxBytes: 2 * settings.maxStatementBytes + 64 * 1024 };
  const slots: InspectedSlots[] = [];
  for (const s of statements) slots.push(await inspectSlots(ctx, s.output.uri, s.expect));
  const bundles: string[] = [];
  const warnings: string[] = [];
  for (const [i, s] of statements.entries()) {
    const slot = slots[i] as InspectedSlots;
    const signed = hasOurBundle(slot) ? undefined : await signStatement(s.payload, deps.signer);
    const stored = await writeSlots(ctx, slot, signed, s.expect).catch((err: unknown) => {
      // Only a writer racing us between inspection and write gets here with models already done.
      if (bundles.length > 0 && err instanceof Error) err.message += `; provenance for the run's other models was stored first: ${bundles.join(', ')}`;
      throw err;
    });
    bundles.push(stored.bundle);
    if (stored.warning) warnings.push(stored.warning);
  }
  return { bundles, warnings };
}
