// resolvedDependencies: what the run consumed. The task definition and the container images were
// observed by the platform (Tekton's refSource, the kubelet's image IDs); source, inputs and
// frameworks come from the Task's own results and are annotated tenantReported.
import { ANNOTATION } from './constants.ts';
import type { DigestAlgorithm } from './digest-syntax.ts';
import { ProvenanceError } from './errors.ts';
import type { ArtifactHint } from './hint-objects.ts';
import type { SourceHint } from './hint-source.ts';
import { parseImageId } from './image-id.ts';
import { arrayField, isRecord, recordField, stringField } from './json.ts';
import type { JsonValue } from './json.ts';
import type { TaskRun } from './kube.ts';
import type { ResourceDescriptor } from './types.ts';
import type { TypeHints } from './type-hints.ts';

function tenant(): Record<string, JsonValue> {
  return { [ANNOTATION.tenantReported]: true };
}

export function resolvedDependencies(taskRun: TaskRun, hints: TypeHints): ResourceDescriptor[] {
  const deps: ResourceDescriptor[] = [];
  const task = taskDefinition(recordField(recordField(taskRun.status, 'provenance'), 'refSource'), 'task', 'status.provenance.refSource');
  if (task) deps.push(task);
  deps.push(...stepActions(taskRun));
  deps.push(...containerImages(taskRun, 'steps', 'step'), ...containerImages(taskRun, 'sidecars', 'sidecar'));
  deps.push(...hints.sources.map(sourceDependency));
  deps.push(...hints.inputs.map(inputDependency));
  deps.push(...hints.frameworks.map((purl) => ({ uri: purl, annotations: tenant() })));
  return deps;
}

/** A remote definition's source as resolved by Tekton (a refSource: the Task's, or a StepAction's). */
function taskDefinition(ref: Record<string, unknown> | undefined, name: string, where: string): ResourceDescriptor | undefined {
  if (ref === undefined) return undefined;
  const uri = stringField(ref, 'uri');
  const digest = ref.digest;
  const digestValid = isRecord(digest) && Object.keys(digest).length > 0 && Object.values(digest).every((v) => typeof v === 'string' && v !== '');
  if (!uri || !digestValid) {
    throw new ProvenanceError('BAD_REF_SOURCE', `${where} must have a uri and a non-empty digest`);
  }
  const dep: ResourceDescriptor = { name, uri, digest: { ...(digest as Record<string, string>) } };
  const entryPoint = stringField(ref, 'entryPoint');
  if (entryPoint) dep.annotations = { [ANNOTATION.entryPoint]: entryPoint };
  return dep;
}

/** Remote StepActions as Tekton resolved them (status.steps[].provenance.refSource), named as Chains names them. */
function stepActions(taskRun: TaskRun): ResourceDescriptor[] {
  const deps: ResourceDescriptor[] = [];
  arrayField(taskRun.status, 'steps').forEach((state, i) => {
    const ref = recordField(recordField(state, 'provenance'), 'refSource');
    const step = stringField(state, 'name') ?? `#${i}`;
    const dep = taskDefinition(ref, `stepAction/${step}`, `status.steps[${i}].provenance.refSource (${step})`);
    if (dep) deps.push(dep);
  });
  return deps;
}

/** One entry per step or sidecar that started; one that never started has no image ID. */
function containerImages(taskRun: TaskRun, field: 'steps' | 'sidecars', kind: string): ResourceDescriptor[] {
  const deps: ResourceDescriptor[] = [];
  arrayField(taskRun.status, field).forEach((state, i) => {
    const imageId = stringField(state, 'imageID');
    if (!imageId) return;
    const name = stringField(state, 'name') ?? `#${i}`;
    deps.push({ name: `${kind}/${name}`, ...parseImageId(imageId, `status.${field}[${i}] (${name})`) });
  });
  return deps;
}

/** SPDX-style git locator, as Chains writes it: git+<url>, ending in .git. */
function gitUri(url: string): string {
  const prefixed = url.startsWith('git+') ? url : `git+${url}`;
  return prefixed.endsWith('.git') ? prefixed : `${prefixed}.git`;
}

function sourceDependency(source: SourceHint): ResourceDescriptor {
  const digestKey = source.commit.length === 40 ? 'sha1' : 'gitCommit';
  const annotations: Record<string, JsonValue> = tenant();
  if (source.step !== undefined) annotations[ANNOTATION.step] = source.step;
  return { name: 'source', uri: gitUri(source.url), digest: { [digestKey]: source.commit }, annotations };
}

function inputDependency(hint: ArtifactHint<DigestAlgorithm>): ResourceDescriptor {
  const dep: ResourceDescriptor = { name: `inputs/${hint.resultName}`, uri: hint.uri, annotations: tenant() };
  if (hint.digest) dep.digest = { [hint.digest.algorithm]: hint.digest.hex };
  if (hint.directory && dep.annotations) dep.annotations[ANNOTATION.kind] = 'directory';
  if (hint.step !== undefined && dep.annotations) dep.annotations[ANNOTATION.step] = hint.step;
  return dep;
}
