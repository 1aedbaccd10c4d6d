// The admission policies of manifests/base, bound to one test namespace (a cluster-wide binding
// would also refuse the attacks other tests run without them), and how a test tells a policy's
// refusal from any other error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const base = join(import.meta.dirname, '..', '..', 'manifests', 'base');

export interface PolicyProbe {
  /** A write the policy refuses; it is tried until it is refused. */
  readonly attempt: () => Promise<unknown>;
  /** Undoes the probe's write when it went through (the policy was not in force yet). */
  readonly undo: () => Promise<unknown>;
  /** The policy's own message, to tell its refusal from any other error. */
  readonly message: RegExp;
}

/** Applies the ValidatingAdmissionPolicy in `file`, binds it to `namespace` only, and waits until `probe` is refused. */
export async function bindPolicyToNamespace(admin: KubeConfig, file: string, namespace: string, probe: PolicyProbe): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const policy = parseAllDocuments(readFileSync(join(base, file), 'utf8')).map((d) => d.toJS() as KubernetesObject).find((d) => d.kind === 'ValidatingAdmissionPolicy');
  assert.ok(policy?.metadata?.name, `${file} holds a ValidatingAdmissionPolicy`);
  await objects.patch(policy, undefined, undefined, 'slsa-ml-test', true, PatchStrategy.ServerSideApply);
  await objects.patch({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: `${policy.metadata.name}-${namespace}` },
    spec: { policyName: policy.metadata.name, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } } },
  } as KubernetesObject, undefined, undefined, 'slsa-ml-test', true, PatchStrategy.ServerSideApply);
  // Policies take effect asynchronously.
  let last: string | undefined;
  for (let i = 0; i < 100; i++) {
    last = await deniedBy(probe.attempt(), probe.message);
    if (last === 'Forbidden') return;
    if (last === undefined) await probe.undo();
    await sleep(200);
  }
  assert.fail(`${file} never took effect in ${namespace}; the probe's last answer: ${last ?? 'written'}`);
}

/** 'Forbidden' for a refusal whose message matches `message`, undefined when the write went through, else what was answered. */
export async function deniedBy(call: Promise<unknown>, message: RegExp): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { reason?: string; message?: string };
    if (err.code === 403 && message.test(body.message ?? '')) return 'Forbidden';
    return `${err.code} ${body.reason ?? ''} ${body.message ?? ''}`;
  }
}
