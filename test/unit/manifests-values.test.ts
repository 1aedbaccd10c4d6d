// The example values files (manifests/values/*.yaml) against what release.yaml is made of
// (manifests/base): each loads as the operator would load it, every file it points the operator at
// is mounted from the right source, and the two halves name each other by the same names. The API
// server's view of both halves is test/integration/manifests.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadConfig, type OperatorConfig } from '../../operator/config/index.ts';

const repo = join(import.meta.dirname, '..', '..');
const OPERATOR_SA = { namespace: 'slsa-ml-system', name: 'slsa-ml-operator' };

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  [key: string]: unknown;
}
interface Volume { name: string; configMap?: { name: string }; secret?: { secretName: string; optional?: boolean }; projected?: { sources: Array<{ serviceAccountToken?: { audience: string; path: string } }> } }
interface Container { env: Array<{ name: string; value?: string }>; volumeMounts: Array<{ name: string; mountPath: string }> }
interface PodSpec { serviceAccountName: string; containers: Container[]; volumes: Volume[] }

// YAML 1.1, as kubectl and kustomize read manifests: `defaultMode: 0400` is octal there.
function readObjects(path: string): Obj[] {
  return parseAllDocuments(readFileSync(path, 'utf8'), { version: '1.1' }).map((doc) => {
    assert.deepEqual(doc.errors, [], path);
    return doc.toJS() as Obj;
  });
}

const base = (file: string): Obj[] => readObjects(join(repo, 'manifests', 'base', file));
const baseKustomization = readObjects(join(repo, 'manifests', 'base', 'kustomization.yaml'))[0] as unknown as { resources: string[] };
const baseObjects = baseKustomization.resources.flatMap(base);
const deployment = baseObjects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: PodSpec } } };
const pod = deployment.spec.template.spec;
const container = pod.containers[0] as Container;
const valuesFiles = readdirSync(join(repo, 'manifests', 'values')).filter((f) => f.endsWith('.yaml')).sort();

const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-values-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The configuration the operator in release.yaml's Deployment would run with. */
function load(configYaml: string, name: string): OperatorConfig {
  const path = join(dir, name);
  writeFileSync(path, configYaml);
  const env = Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
  return loadConfig(path, env);
}

/** The volume a path in the container lies under. */
function volumeFor(path: string): Volume {
  const mount = container.volumeMounts.find((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `${path} is not under any volumeMount of the Deployment`);
  const volume = pod.volumes.find((v) => v.name === mount.name);
  assert.ok(volume, `volume ${mount.name}`);
  return volume;
}

function configOf(objects: Obj[]): string {
  const configMap = objects.find((o) => o.kind === 'ConfigMap');
  const text = configMap?.data?.['config.yaml'];
  assert.equal(typeof text, 'string', 'the values ConfigMap has config.yaml');
  return text ?? '';
}

describe('the example values files', () => {
  it('are one per signer kind', () => {
    assert.deepEqual(valuesFiles, ['key.yaml', 'kms.yaml', 'sigstore.yaml']);
  });

  for (const file of valuesFiles) {
    const signer = file.replace(/\.yaml$/, '');
    const objects = readObjects(join(repo, 'manifests', 'values', file));

    describe(file, () => {
      it('holds exactly the ConfigMap the Deployment mounts and the ServiceAccount it runs as', () => {
        const configVolume = pod.volumes.find((v) => v.name === 'config');
        assert.deepEqual(objects.map((o) => [o.kind, o.metadata.namespace, o.metadata.name]), [
          ['ConfigMap', OPERATOR_SA.namespace, configVolume?.configMap?.name],
          ['ServiceAccount', OPERATOR_SA.namespace, pod.serviceAccountName],
        ]);
        assert.equal(pod.serviceAccountName, OPERATOR_SA.name);
        assert.match(objects[1]?.metadata.annotations?.['iam.gke.io/gcp-service-account'] ?? '', /^[a-z][a-z0-9-]+@[a-z][a-z0-9-]+\.iam\.gserviceaccount\.com$/);
      });

      it(`loads as the operator loads it, with signer kind ${signer} and the seal key of the Deployment's Secret`, () => {
        const config = load(configOf(objects), file);
        assert.equal(config.signer.kind, signer);
        assert.ok(config.allowedPrefixes.every((p) => p.startsWith('gs://') && p.includes('{namespace}')), String(config.allowedPrefixes));
        assert.equal(config.seal.keyPath, '/var/run/slsa-ml/seal/key');
        assert.deepEqual(volumeFor(config.seal.keyPath).secret, { secretName: 'slsa-ml-seal', defaultMode: 0o400 });
      });

      it('points the signer only at files the Deployment mounts from the source the comments name', () => {
        const config = load(configOf(objects), file);
        const s = config.signer;
        if (s.kind === 'key') {
          assert.deepEqual(volumeFor(s.keyPath).secret, { secretName: 'slsa-ml-signing-key', optional: true, defaultMode: 0o400 });
        } else if (s.kind === 'sigstore') {
          assert.equal(s.token.kind, 'file');
          const token = s.token.kind === 'file' ? s.token.path : '';
          const source = volumeFor(token).projected?.sources[0]?.serviceAccountToken;
          assert.deepEqual({ audience: source?.audience, file: `${volumeFor(token).name}/${source?.path}` }, { audience: 'sigstore', file: 'oidc-token/token' });
          assert.ok(token.endsWith(`/${source?.path}`));
        }
      });
    });
  }

  it("sigstore.yaml's commented identity, issuer and trusted root load together, the root from the same ConfigMap", () => {
    const text = configOf(readObjects(join(repo, 'manifests', 'values', 'sigstore.yaml')));
    const uncommented = text.replace(/^(\s*)# (identity|oidcIssuer|trustedRootPath):/gm, '$1$2:');
    assert.notEqual(uncommented, text);
    const config = load(uncommented, 'sigstore-verification.yaml');
    assert.equal(config.signer.kind, 'sigstore');
    const verification = config.signer.kind === 'sigstore' ? config.signer.verification : undefined;
    assert.equal(verification?.identity, `https://kubernetes.io/namespaces/${OPERATOR_SA.namespace}/serviceaccounts/${OPERATOR_SA.name}`);
    assert.equal(volumeFor(verification?.trustedRootPath ?? '').configMap?.name, 'slsa-ml-config');
  });
});

describe('release.yaml (manifests/base) beside a values file', () => {
  it('declares no ConfigMap and no ServiceAccount, so both can be applied, or listed in one kustomization, without a clash', () => {
    assert.deepEqual(baseObjects.filter((o) => ['ConfigMap', 'ServiceAccount'].includes(o.kind)), []);
  });

  it("binds its roles to the values file's ServiceAccount, and its admission policies name that identity", () => {
    const subjects = baseObjects.flatMap((o) => (o.kind.endsWith('Binding') && 'subjects' in o ? (o.subjects as Array<Record<string, string>>) : []));
    assert.equal(subjects.length, 2);
    for (const s of subjects) assert.deepEqual(s, { kind: 'ServiceAccount', ...OPERATOR_SA });
    const tekton = ['slsa-ml-pipeline-children', 'slsa-ml-taskrun-pods'];
    const policies = baseObjects.filter((o) => o.kind === 'ValidatingAdmissionPolicy' && !tekton.includes(o.metadata?.name ?? '')).map((o) => JSON.stringify(o));
    assert.equal(policies.length, 2);
    for (const p of policies) assert.ok(p.includes(`system:serviceaccount:${OPERATOR_SA.namespace}:${OPERATOR_SA.name}`));
    // The other two name Tekton's controller: the only writer of a TaskRun's PipelineRun owner and of a Pod's TaskRun owner.
    for (const name of tekton) {
      const policy = baseObjects.find((o) => o.metadata?.name === name && o.kind === 'ValidatingAdmissionPolicy');
      assert.ok(JSON.stringify(policy).includes('system:serviceaccount:tekton-pipelines:tekton-pipelines-controller'), name);
    }
  });

  it('waits for the seal key Secret, and mounts the signing key Secret only if there is one', () => {
    const secrets = pod.volumes.filter((v) => v.secret).map((v) => [v.secret?.secretName, v.secret?.optional ?? false]);
    assert.deepEqual(secrets, [['slsa-ml-seal', false], ['slsa-ml-signing-key', true]]);
  });
});
