// The GitLab CI/CD files as GitLab will read them: the component (templates/provenance.yml) and the
// example pipeline (examples/gitlab/.gitlab-ci.yml) are valid YAML of the right shape, interpolate
// only declared inputs, and are wired together — mistakes that otherwise surface only when someone
// runs a pipeline on GitLab.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parse, parseAllDocuments } from 'yaml';

import { COMPONENT, interpolate, readComponent, withDefaults } from '../support/gitlab-job.ts';

const repo = join(import.meta.dirname, '..', '..');
const text = readFileSync(COMPONENT, 'utf8');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

interface Job {
  image?: { name?: string; entrypoint?: string[] };
  needs?: unknown;
  id_tokens?: Record<string, { aud?: string }>;
  variables?: Record<string, string>;
  script?: string[];
  artifacts?: { paths?: string[] };
}

describe('the component templates/provenance.yml', () => {
  it('is a spec:inputs header, ---, and one job', async () => {
    const docs = parseAllDocuments(text);
    assert.equal(docs.length, 2);
    for (const doc of docs) assert.deepEqual(doc.errors, []);
    assert.deepEqual(Object.keys(docs[0]?.toJS() as object), ['spec']);
    const component = await readComponent();
    assert.deepEqual(Object.keys(component.jobs), ['slsa-ml-provenance']);
  });

  it('interpolates only declared inputs, and uses every one', async () => {
    const component = await readComponent();
    const used = new Set([...text.matchAll(/\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]/g)].map((m) => m[1]));
    assert.deepEqual([...used].filter((name) => !(name !== undefined && name in component.inputs)), []);
    assert.deepEqual(Object.keys(component.inputs).filter((name) => !used.has(name)), []);
    // No other interpolation syntax (a typo such as $[ inputs.x ] or $[[ input.x ]] would be left as text).
    assert.deepEqual(text.replace(/\$\[\[\s*inputs\.[A-Za-z0-9_-]+\s*\]\]/g, '').match(/\$\[\[?[^\n]*/g) ?? [], []);
  });

  it('asks GitLab for an ID token with the sigstore audience, in the variable attest-ci reads', async () => {
    const job = Object.values((await readComponent()).jobs)[0] as Job;
    assert.deepEqual(job.id_tokens, { SIGSTORE_ID_TOKEN: { aud: 'sigstore' } });
  });

  it('runs `slsa-ml attest-ci` for the model with the platform named, in a script sh accepts', async () => {
    const component = await readComponent();
    const job = interpolate(Object.values(component.jobs)[0], withDefaults(component, { model: 'model/m.pth', needs: ['train'] })) as Job;
    const script = (job.script ?? []).join('\n');
    assert.match(script, /^\s*slsa-ml attest-ci "\$@"$/m);
    assert.match(script, /set -- "\$SLSA_ML_MODEL" --platform gitlab/);
    execFileSync('sh', ['-n', '-c', script]);
    // Inputs reach the script only as variables: no interpolation inside the script itself.
    assert.doesNotMatch(JSON.stringify((Object.values(component.jobs)[0] as Job).script), /\$\[\[/);
    assert.deepEqual(job.needs, ['train']);
    assert.deepEqual(job.artifacts?.paths, ['slsa-ml-provenance/']);
  });

  it('runs the slsa-ml image of this release with a shell as entrypoint, and requires model and needs', async () => {
    const component = await readComponent();
    // release.yml pushes the image under the release tag, v<package.json version>.
    assert.equal(component.inputs.image?.default, `ghcr.io/slsa-ml/slsa-ml:v${version}`);
    assert.deepEqual((Object.values(component.jobs)[0] as Job).image?.entrypoint, ['']);
    assert.throws(() => withDefaults(component, { needs: [] }), /`model` input: required value has not been provided/);
    assert.throws(() => withDefaults(component, { model: 'm' }), /`needs` input: required value has not been provided/);
    assert.equal(component.inputs.needs?.type, 'array');
  });
});

describe('the example examples/gitlab/.gitlab-ci.yml', () => {
  const example = parse(readFileSync(join(repo, 'examples', 'gitlab', '.gitlab-ci.yml'), 'utf8')) as Record<string, unknown> & {
    include: Array<{ component: string; inputs: Record<string, unknown> }>;
    stages: string[];
  };
  const jobs = Object.fromEntries(Object.entries(example).filter(([name, v]) => !['stages', 'variables', 'include'].includes(name) && typeof v === 'object')) as Record<string, Job & { stage?: string }>;

  it('includes the component at this release with inputs it declares', async () => {
    const component = await readComponent();
    const [include] = example.include;
    // The release tags are v<version>; @ names a tag as it is.
    assert.equal(include?.component, `$CI_SERVER_FQDN/slsa-ml/slsa-ml/provenance@v${version}`);
    withDefaults(component, include?.inputs ?? {});
    assert.ok(example.stages.includes(String(include?.inputs.stage)));
  });

  it('signs the model the training job leaves as an artifact, trained with tasks/training', () => {
    const [include] = example.include;
    const train = jobs['train-cifar10'];
    assert.deepEqual(include?.inputs.needs, ['train-cifar10']);
    assert.ok(train?.artifacts?.paths?.includes('model/'));
    assert.match(String(include?.inputs.model), /^model\//);
    const script = (train?.script ?? []).join('\n');
    assert.match(script, /pip install --require-hashes --no-deps -r tasks\/requirements\.txt/);
    assert.match(script, /cd tasks && python -m training --format "\$FORMAT"/);
    for (const file of ['FRAMEWORKS', 'dataset_ARTIFACT_INPUTS']) assert.ok(Object.values(include?.inputs ?? {}).includes(`@results/${file}`), file);
  });

  it('verifies with the GitLab identity of the pipeline after the component\'s job', () => {
    const verify = jobs['verify-cifar10'];
    assert.deepEqual(verify?.needs, ['train-cifar10', 'slsa-ml-provenance']);
    assert.match((verify?.script ?? []).join('\n'), /slsa-ml verify .*--gitlab-project "\$CI_PROJECT_PATH" --gitlab-ref "refs\/heads\/\$CI_COMMIT_BRANCH"/s);
    assert.equal(verify?.image?.name, `ghcr.io/slsa-ml/slsa-ml:v${version}`);
    for (const job of Object.values(jobs)) assert.ok(example.stages.includes(String(job.stage)), String(job.stage));
  });
});
