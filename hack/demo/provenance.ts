// What the provenance the operator wrote for the PipelineRun names, read from its Sigstore
// bundle: the buildType, the PipelineRun's UID as the invocation, the source commit the
// fetch-source task reported, and the node pool (and node) each task ran on.
import type { TestEnv } from '../../test/harness/index.ts';
import type { TektonRun } from '../../test/support/tekton-runs.ts';
import { downloadObject } from './cosign.ts';
import { detail, stepTitle } from './say.ts';

const envelope = (bundle: Buffer): { payload: string } => (JSON.parse(bundle.toString()) as { dsseEnvelope: { payload: string } }).dsseEnvelope;

interface DemoStatement {
  predicate: {
    buildDefinition: {
      buildType: string;
      internalParameters: { tasks?: Array<{ pipelineTask: string; taskRun?: string; node?: { name?: string; nodePool?: string; machineType?: string } }> };
      resolvedDependencies?: Array<{ name?: string; uri?: string; digest?: Record<string, string>; annotations?: Record<string, string> }>;
    };
    runDetails: { metadata: { invocationId?: string } };
  };
}

type Dependency = NonNullable<DemoStatement['predicate']['buildDefinition']['resolvedDependencies']>[number];
type TaskFacts = NonNullable<DemoStatement['predicate']['buildDefinition']['internalParameters']['tasks']>[number];

const sourceLine = (source: Dependency): string =>
  `${source.uri ?? '?'} at ${Object.values(source.digest ?? {})[0] ?? '?'} (reported by task ${source.annotations?.['slsa-ml.dev/pipelineTask'] ?? '?'})`;

const taskLine = ({ pipelineTask, node, taskRun }: TaskFacts): string =>
  `${pipelineTask.padEnd(12)} node pool ${node?.nodePool ?? '?'} (${node?.machineType ?? '?'}, ${node?.name ?? '?'}), TaskRun ${taskRun ?? '?'}`;

export async function showProvenance(env: TestEnv, bundle: string, pipelineRun: TektonRun): Promise<void> {
  stepTitle('What the provenance names');
  const { buildDefinition, runDetails } = (JSON.parse(Buffer.from(envelope(await downloadObject(env, bundle)).payload, 'base64').toString()) as DemoStatement).predicate;
  detail('buildType', buildDefinition.buildType);
  const invocation = runDetails.metadata.invocationId ?? '?';
  detail('invocation', `${invocation} (${invocation === pipelineRun.metadata.uid ? "the PipelineRun's UID" : `not the PipelineRun's UID ${String(pipelineRun.metadata.uid)}`})`);
  for (const source of (buildDefinition.resolvedDependencies ?? []).filter((d) => d.name === 'source')) detail('source', sourceLine(source));
  for (const task of buildDefinition.internalParameters.tasks ?? []) detail('task', taskLine(task));
}

