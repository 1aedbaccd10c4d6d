// resolvedDependencies: what the run consumed. The task definition and the container images were
// observed by the platform (Tekton's refSource, the kubelet's image IDs); source, inputs and
// frameworks come from the Task's own results and are annotated tenantReported.
import { ANNOTATION } from './constants.ts';
import type { DigestAlgorithm } from './digest-syntax.ts';
import { ProvenanceError } from './errors.ts';
import type { ArtifactHint } from './hint-objects.ts';
import { parseImageId } from './image-id.ts';
import { arrayField, isRecord, recordField, stringField } from './json.ts';
import type { TaskRun } from './kube.ts';
import type { ResourceDescriptor } from './types.ts';
import type { TypeHints } from './type-hints.ts';

function tenant(): Record<string, true> {
  return { [ANNOTATION.tenantReported]: true };
}

export function resolvedDependencies(taskRun: TaskRun, hints: TypeHints): ResourceDescriptor[] {
  const deps: ResourceDescriptor[] = [];
  const task = taskDefinition(taskRun);
  if (task) deps.push(task);
  deps.push(...containerImages(taskRun, 'steps', 'step'), ...containerImages(taskRun, 'sidecars', 'sidecar'));
  if (hints.source) {
    const digestKey = hints.source.commit.length === 40 ? 'sha1' : 'gitCommit';
    deps.push({ name: 'source', uri: gitUri(hints.source.url), digest: { [digestKey]: hints.source.commit }, annotations: tenant() });
  }
  deps.push(...hints.inputs.map(inputDependency));
  deps.push(...hints.frameworks.map((purl) => ({ uri: purl, annotations: tenant() })));
  return deps;
}

/** The remote Task's source as resolved by Tekton (status.provenance.refSource). */
function taskDefinition(taskRun: TaskRun): ResourceDescriptor | undefined {
  const ref = recordField(recordField(taskRun.status, 'provenance'), 'refSource');
  if (ref === undefined) return undefined;
  const uri = stringField(ref, 'uri');
  const digest = ref.digest;
  const digestValid = isRecord(digest) && Object.keys(digest).length > 0 && Object.values(digest).every((v) => typeof v === 'string' && v !== '');
  if (!uri || !digestValid) {
    throw new ProvenanceError('BAD_REF_SOURCE', 'status.provenance.refSource must have a uri and a non-empty digest');
  }
  const dep: ResourceDescriptor = { name: 'task', uri, digest: { ...(digest as Record<string, string>) } };
  const entryPoint = stringField(ref, 'entryPoint');
  if (entryPoint) dep.annotations = { [ANNOTATION.entryPoint]: entryPoint };
  return dep;
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

function inputDependency(hint: ArtifactHint<DigestAlgorithm>): ResourceDescriptor {
  const dep: ResourceDescriptor = { name: `inputs/${hint.resultName}`, uri: hint.uri, annotations: tenant() };
  if (hint.digest) dep.digest = { [hint.digest.algorithm]: hint.digest.hex };
  if (hint.directory && dep.annotations) dep.annotations[ANNOTATION.kind] = 'directory';
  return dep;
}
