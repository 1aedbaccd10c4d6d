// examples/cloud-build/cloudbuild.yaml as Cloud Build will read it: valid YAML of the build
// config's shape, scripts a shell accepts, the slsa-ml step after the training step and pointed at
// the model it wrote, automapSubstitutions on (scripts and slsa-ml read substitutions only as
// environment variables), and every substitution it uses declared — mistakes that otherwise
// surface only when someone runs the build on Google Cloud.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parse } from 'yaml';

import { cli } from '../support/cli.ts';

const repo = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(repo, 'examples', 'cloud-build', 'cloudbuild.yaml'), 'utf8');

interface Step {
  readonly id?: string;
  readonly name: string;
  readonly script?: string;
  readonly args?: string[];
  readonly entrypoint?: string;
  readonly waitFor?: string[];
}
interface BuildConfig {
  readonly steps: Step[];
  readonly substitutions?: Record<string, string>;
  readonly options?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

const config = parse(text) as BuildConfig;
const step = (id: string): Step => {
  const found = config.steps.find((s) => s.id === id);
  assert.ok(found, `step ${id}`);
  return found;
};

/** Top-level fields of a build config (cloud.google.com/build/docs/build-config-file-schema). */
const BUILD_FIELDS = new Set(['steps', 'timeout', 'queueTtl', 'logsBucket', 'options', 'substitutions', 'tags', 'serviceAccount', 'secrets', 'availableSecrets', 'artifacts', 'images']);
/** Substitutions Cloud Build itself provides (builds, and builds from triggers). */
const BUILT_IN = new Set([
  'PROJECT_ID', 'BUILD_ID', 'PROJECT_NUMBER', 'LOCATION', 'TRIGGER_NAME', 'COMMIT_SHA', 'REVISION_ID', 'SHORT_SHA', 'REPO_NAME',
  'REPO_FULL_NAME', 'BRANCH_NAME', 'TAG_NAME', 'REF_NAME', 'TRIGGER_BUILD_CONFIG_PATH', 'SERVICE_ACCOUNT_EMAIL', 'SERVICE_ACCOUNT',
]);

/** `$NAME` / `${NAME}` references in a string, shell variables of the script itself left out. */
function references(value: string, local: ReadonlySet<string> = new Set()): string[] {
  return [...value.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1] as string).filter((n) => !local.has(n));
}

describe('examples/cloud-build/cloudbuild.yaml', () => {
  it('is a build config: known top-level fields, each step an image with either a script or args', () => {
    assert.deepEqual(Object.keys(config).filter((k) => !BUILD_FIELDS.has(k)), []);
    for (const s of config.steps) {
      assert.equal(typeof s.name, 'string', `step ${s.id ?? '?'} names its image`);
      // Cloud Build refuses a step with script and args or entrypoint.
      assert.ok(s.script === undefined || (s.args === undefined && s.entrypoint === undefined), `step ${s.id ?? '?'}`);
    }
  });

  it('turns automapSubstitutions on and logs to Cloud Logging (required with a user-specified service account)', () => {
    assert.equal(config.options?.automapSubstitutions, true);
    assert.equal(config.options?.logging, 'CLOUD_LOGGING_ONLY');
  });

  it('runs prepare, train, then slsa-ml, each waiting for the one before', () => {
    assert.deepEqual(config.steps.map((s) => s.id), ['prepare', 'train', 'provenance']);
    assert.deepEqual(step('train').waitFor, ['prepare']);
    assert.deepEqual(step('provenance').waitFor, ['train']);
    assert.equal(step('provenance').name, '${_SLSA_ML_IMAGE}');
  });

  it('declares every substitution it uses, uses every one it declares, and uses only Cloud Build\'s own otherwise', () => {
    const local = new Set(['MODEL', '@']);
    const used = new Set(config.steps.flatMap((s) => [...references(s.name), ...references(s.script ?? '', local), ...(s.args ?? []).flatMap((a) => references(a))]));
    const declared = new Set(Object.keys(config.substitutions ?? {}));
    assert.deepEqual([...used].filter((n) => n.startsWith('_') && !declared.has(n)), [], 'used but not declared');
    assert.deepEqual([...declared].filter((n) => !used.has(n)), [], 'declared but not used');
    assert.deepEqual([...used].filter((n) => !n.startsWith('_') && !BUILT_IN.has(n)), [], 'neither declared nor built in');
  });

  it('its scripts are valid shell', () => {
    for (const s of config.steps) {
      const script = s.script ?? '';
      const shell = script.startsWith('#!/usr/bin/env bash') ? 'bash' : 'sh';
      execFileSync(shell, ['-n'], { input: script });
    }
  });

  it('trains with flags the training CLI accepts, into the folder the slsa-ml step reads the results from', () => {
    const train = step('train').script ?? '';
    assert.match(train, /python -m training/);
    const cliSource = readFileSync(join(repo, 'tasks', 'training', 'cli.py'), 'utf8');
    for (const flag of train.match(/--[a-z][a-z0-9-]*/g) ?? []) assert.ok(cliSource.includes(`"${flag}"`), `training takes ${flag}`);
    assert.match(train, /--results-dir \/workspace\/results/);
    const results = readFileSync(join(repo, 'tasks', 'training', 'results.py'), 'utf8');
    for (const name of ['FRAMEWORKS', 'dataset_ARTIFACT_INPUTS']) {
      assert.ok(results.includes(`"${name}"`), `training writes ${name}`);
      assert.ok((step('provenance').script ?? '').includes(`/workspace/results/${name}`), `slsa-ml reads ${name}`);
    }
    const formats = readFileSync(join(repo, 'tasks', 'training', 'formats.py'), 'utf8');
    assert.ok(formats.includes(`"${config.substitutions?._FORMAT ?? ''}"`), '_FORMAT is a training format');
  });

  it('attests the model where training wrote it, with attest-ci --platform cloud-build and flags it accepts', async () => {
    const script = step('provenance').script ?? '';
    assert.match(step('train').script ?? '', /--model-uri "gs:\/\/\$_BUCKET\/models\/\$BUILD_ID"/);
    assert.match(script, /MODEL="gs:\/\/\$_BUCKET\/models\/\$BUILD_ID\/\$_FORMAT"/);
    assert.match(script, /exec slsa-ml attest-ci --platform cloud-build "\$MODEL"/);
    const help = (await cli(['attest-ci', '--help'])).stdout;
    for (const flag of script.match(/--[a-z][a-z0-9-]*/g) ?? []) assert.ok(help.includes(flag), `attest-ci takes ${flag}`);
    assert.match(help, /--platform .*cloud-build/);
  });
});
