// Type hints as a training Task reports them: what is read, and what is refused (never dropped).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildStatement, HintError, isTypeHintName, readTypeHints } from '../../src/provenance/index.ts';
import type { TaskRun } from '../../src/provenance/index.ts';
import { loadCase } from '../fixtures/provenance/load.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const SHA1 = 'c'.repeat(40);

interface R {
  name: string;
  value?: unknown;
}

function run(results: R[], steps: Array<{ name: string; results: R[] }> = [], spec: Record<string, unknown> = {}): TaskRun {
  return {
    metadata: { name: 'tr', namespace: 'ns', uid: 'uid-1' },
    spec,
    status: { results, steps: steps.map((s) => ({ name: s.name, imageID: `img@sha256:${A}`, results: s.results })) },
  };
}

function output(name: string, value: Record<string, unknown>): R {
  return { name, value };
}

describe('when a Task reports its model with *ARTIFACT_OUTPUTS', () => {
  it('reads uri, digest and isBuildArtifact', () => {
    const hints = readTypeHints(run([output('model_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m/model.pth', digest: `sha256:${A}`, isBuildArtifact: 'true' })]));
    assert.deepEqual(hints.outputs, [
      { resultName: 'model_ARTIFACT_OUTPUTS', uri: 'gs://bkt/m/model.pth', digest: { algorithm: 'sha256', hex: A }, isBuildArtifact: true, directory: false },
    ]);
  });

  it('treats a missing or "false" isBuildArtifact as not a build artifact, as Chains does', () => {
    const hints = readTypeHints(run([
      output('a_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/a.pt', digest: `sha256:${A}` }),
      output('b_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/b.pt', digest: `sha256:${B}`, isBuildArtifact: 'false' }),
    ]));
    assert.deepEqual(hints.outputs.map((h) => h.isBuildArtifact), [false, false]);
  });

  it('reads a URI ending in "/" as a directory model, whose digest the operator measures', () => {
    const [hint] = readTypeHints(run([output('sm_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m/saved_model/', isBuildArtifact: 'true' })])).outputs;
    assert.equal(hint?.directory, true);
    assert.equal(hint?.digest, undefined);
  });

  it('accepts an upper-case algorithm name, as Chains does', () => {
    const [hint] = readTypeHints(run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: ` SHA256:${A} ` })])).outputs;
    assert.deepEqual(hint?.digest, { algorithm: 'sha256', hex: A });
  });

  it('accepts file:// outputs only when the settings allow that scheme (local demo)', () => {
    const taskRun = run([output('m_ARTIFACT_OUTPUTS', { uri: 'file:///var/demo/models/m.pt', isBuildArtifact: 'true' })]);
    assert.throws(() => readTypeHints(taskRun), { name: 'HintError', code: 'BAD_URI' });
    assert.equal(readTypeHints(taskRun, { outputSchemes: ['gs', 'file'] }).outputs[0]?.uri, 'file:///var/demo/models/m.pt');
  });
});

describe('when a Task reports its model as a *ARTIFACT_URI / *ARTIFACT_DIGEST pair', () => {
  it('pairs results whose names are equal once the suffixes are removed', () => {
    const hints = readTypeHints(run([
      { name: 'MODEL_ARTIFACT_URI', value: 'gs://bkt/model.pth\n' },
      { name: 'TOKENIZER_ARTIFACT_DIGEST', value: `sha256:${B}` },
      { name: 'MODEL_ARTIFACT_DIGEST', value: `sha256:${A}` },
      { name: 'TOKENIZER_ARTIFACT_URI', value: 'gs://bkt/tokenizer.json' },
    ]));
    assert.deepEqual(hints.outputs.map((h) => [h.resultName, h.uri, h.digest?.hex, h.isBuildArtifact]), [
      ['MODEL_ARTIFACT_URI', 'gs://bkt/model.pth', A, true],
      ['TOKENIZER_ARTIFACT_URI', 'gs://bkt/tokenizer.json', B, true],
    ]);
  });

  it('pairs the bare ARTIFACT_URI and ARTIFACT_DIGEST (empty prefix)', () => {
    const hints = readTypeHints(run([{ name: 'ARTIFACT_URI', value: 'gs://bkt/m.pt' }, { name: 'ARTIFACT_DIGEST', value: `sha256:${A}` }]));
    assert.equal(hints.outputs.length, 1);
  });

  it('ignores a pair whose two values are empty, as Chains does', () => {
    const hints = readTypeHints(run([{ name: 'X_ARTIFACT_URI', value: '' }, { name: 'X_ARTIFACT_DIGEST', value: ' ' }]));
    assert.deepEqual(hints.outputs, []);
  });

  it('pairs within one set of results only: a task result does not pair with a step result', () => {
    const taskRun = run([{ name: 'M_ARTIFACT_URI', value: 'gs://bkt/m.pt' }], [{ name: 'train', results: [{ name: 'M_ARTIFACT_DIGEST', value: `sha256:${A}` }] }]);
    assert.throws(() => readTypeHints(taskRun), { code: 'MISSING_DIGEST' });
  });
});

describe('when hints come from step results (StepActions)', () => {
  it('reads them like task results and remembers the step', () => {
    const taskRun = run([], [{ name: 'train', results: [output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: `sha256:${A}`, isBuildArtifact: 'true' })] }]);
    const [hint] = readTypeHints(taskRun).outputs;
    assert.equal(hint?.step, 'train');
    assert.equal(hint?.isBuildArtifact, true);
  });

  it('counts a step result surfaced again as a task result once', () => {
    const value = { uri: 'gs://bkt/m.pt', digest: `sha256:${A}`, isBuildArtifact: 'true' };
    const taskRun = run(
      [output('m_ARTIFACT_OUTPUTS', value), { name: 'FRAMEWORKS', value: ['pkg:pypi/torch@2.8.0'] }],
      [{ name: 'train', results: [output('m_ARTIFACT_OUTPUTS', value), { name: 'FRAMEWORKS', value: ['pkg:pypi/torch@2.8.0', 'pkg:pypi/numpy@2.3.4'] }] }],
    );
    const hints = readTypeHints(taskRun);
    assert.equal(hints.outputs.length, 1);
    assert.equal(hints.outputs[0]?.step, undefined);
    assert.deepEqual(hints.frameworks, ['pkg:pypi/torch@2.8.0', 'pkg:pypi/numpy@2.3.4']);
  });

  it('makes an output a subject candidate when any report marks it so', () => {
    const taskRun = run(
      [output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt' })],
      [{ name: 'train', results: [output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: `sha256:${A}`, isBuildArtifact: 'true' })] }],
    );
    const [hint] = readTypeHints(taskRun).outputs;
    assert.equal(hint?.isBuildArtifact, true);
    assert.equal(hint?.digest?.hex, A);
  });
});

describe('when a Task reports inputs, source and frameworks', () => {
  it('reads *ARTIFACT_INPUTS with any digest algorithm Chains accepts', () => {
    const hints = readTypeHints(run([
      output('data_ARTIFACT_INPUTS', { uri: 'gs://datasets/cifar10/', digest: `sha256:${A}` }),
      output('repo_ARTIFACT_INPUTS', { uri: 'git+https://github.com/x/y', digest: `sha1:${SHA1}` }),
    ]));
    assert.deepEqual(hints.inputs.map((h) => [h.uri, h.digest, h.directory]), [
      ['gs://datasets/cifar10/', { algorithm: 'sha256', hex: A }, true],
      ['git+https://github.com/x/y', { algorithm: 'sha1', hex: SHA1 }, false],
    ]);
  });

  it('reads the git source from CHAINS-GIT_URL and CHAINS-GIT_COMMIT results', () => {
    const hints = readTypeHints(run([{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/y' }, { name: 'CHAINS-GIT_COMMIT', value: SHA1.toUpperCase() }]));
    assert.deepEqual(hints.sources, [{ url: 'https://github.com/x/y', commit: SHA1 }]);
  });

  it('reads the git source from params as Chains does, results winning over params', () => {
    const params = [{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/param' }, { name: 'CHAINS-GIT_COMMIT', value: SHA1 }];
    assert.deepEqual(readTypeHints(run([], [], { params })).sources, [{ url: 'https://github.com/x/param', commit: SHA1 }]);
    const fromResult = readTypeHints(run([{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/result' }], [], { params }));
    assert.deepEqual(fromResult.sources, [{ url: 'https://github.com/x/result', commit: SHA1 }]);
  });

  it('records every source pair: task scope and each step, several repositories, a repeated pair once', () => {
    const SHA2 = 'd'.repeat(40);
    const code = [{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/code' }, { name: 'CHAINS-GIT_COMMIT', value: SHA1 }];
    const config = [{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/config' }, { name: 'CHAINS-GIT_COMMIT', value: SHA2 }];
    const hints = readTypeHints(run(code, [{ name: 'clone-config', results: config }, { name: 'clone-code', results: code }]));
    assert.deepEqual(hints.sources, [
      { url: 'https://github.com/x/code', commit: SHA1 },
      { url: 'https://github.com/x/config', commit: SHA2, step: 'clone-config' },
    ]);
    const twoSteps = readTypeHints(run([], [{ name: 'a', results: code }, { name: 'b', results: config }]));
    assert.deepEqual(twoSteps.sources.map((s) => [s.url, s.step]), [['https://github.com/x/code', 'a'], ['https://github.com/x/config', 'b']]);
  });

  it('never fuses a URL from one step with a commit from another: both halves are refused', () => {
    const split = run([], [{ name: 'a', results: [{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/y' }] }, { name: 'b', results: [{ name: 'CHAINS-GIT_COMMIT', value: SHA1 }] }]);
    assert.throws(() => readTypeHints(split), (err: unknown) => err instanceof HintError && err.code === 'MISSING_DIGEST' && err.step === 'a' && /same step/.test(err.message));
  });

  it('reads frameworks written as a lowercase name, a comma- or space-separated string, a JSON array string, or pip pins', () => {
    const shapes = [
      { name: 'frameworks', value: 'pkg:pypi/torch@2.8.0, pkg:pypi/numpy@2.3.4' },
      { name: 'Frameworks', value: 'pkg:pypi/torch@2.8.0\npkg:pypi/safetensors@0.6.2' },
      { name: 'FRAMEWORKS', value: '["pkg:pypi/tensorflow@2.20.0"]' },
      { name: 'frameworks', value: ['Torchvision==0.23.0'] },
    ];
    for (const shape of shapes) assert.deepEqual(readTypeHints(run([shape])).unreadableFrameworks, [], JSON.stringify(shape));
    assert.deepEqual(readTypeHints(run([shapes[0] as R])).frameworks, ['pkg:pypi/torch@2.8.0', 'pkg:pypi/numpy@2.3.4']);
    assert.deepEqual(readTypeHints(run([shapes[3] as R])).frameworks, ['pkg:pypi/torchvision@0.23.0']);
  });

  it('keeps what it can read of a frameworks result and says what it could not, instead of failing the run', () => {
    const hints = readTypeHints(run([{ name: 'frameworks', value: 'pkg:pypi/torch@2.8.0, torch 2.8' }, { name: 'FRAMEWORKS', value: { torch: '2.8.0' } }]));
    assert.deepEqual(hints.frameworks, ['pkg:pypi/torch@2.8.0']);
    assert.deepEqual(hints.unreadableFrameworks.map((u) => u.resultName), ['frameworks', 'FRAMEWORKS']);
    assert.match(hints.unreadableFrameworks[0]?.reason ?? '', /"torch" is not a package URL.*; "2\.8" is not a package URL/);
  });

  it('reads FRAMEWORKS package URLs', () => {
    const hints = readTypeHints(run([{ name: 'FRAMEWORKS', value: ['pkg:pypi/torch@2.8.0', 'pkg:pypi/torchvision@0.23.0'] }]));
    assert.deepEqual(hints.frameworks, ['pkg:pypi/torch@2.8.0', 'pkg:pypi/torchvision@0.23.0']);
  });

  it('knows which result names are hints (the rest become byproducts)', () => {
    const hintNames = ['x_ARTIFACT_OUTPUTS', 'ARTIFACT_INPUTS', 'M_ARTIFACT_URI', 'M_ARTIFACT_DIGEST', 'CHAINS-GIT_URL', 'CHAINS-GIT_COMMIT', 'FRAMEWORKS'];
    assert.deepEqual(hintNames.filter(isTypeHintName), hintNames);
    assert.deepEqual(['accuracy', 'IMAGES', 'ARTIFACT_OUTPUTS_SUMMARY'].filter(isTypeHintName), []);
    assert.ok(isTypeHintName('frameworks'), 'the frameworks hint in any case');
  });
});

interface Malformed {
  what: string;
  code: string;
  result: string;
  taskRun: TaskRun;
}

const malformed: Malformed[] = [
  { what: 'a digest that is too short', code: 'BAD_DIGEST', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: 'sha256:abc' })]) },
  { what: 'a digest without an algorithm', code: 'BAD_DIGEST', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: A })]) },
  { what: 'an unknown digest algorithm', code: 'BAD_DIGEST', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: `md5:${'0'.repeat(32)}` })]) },
  { what: 'upper-case hex', code: 'BAD_DIGEST', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: `sha256:${A.toUpperCase()}` })]) },
  { what: 'an output digest that is not sha256', code: 'BAD_DIGEST', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: `sha512:${'d'.repeat(128)}` })]) },
  { what: 'an output outside GCS', code: 'BAD_URI', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'https://example.com/m.pt', isBuildArtifact: 'true' })]) },
  { what: 'a bucket without an object', code: 'BAD_URI', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://models' })]) },
  { what: 'a path that climbs out of its prefix', code: 'BAD_URI', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://models/team-a/../team-b/m.pt' })]) },
  { what: 'an output without uri', code: 'MISSING_URI', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { digest: `sha256:${A}`, isBuildArtifact: 'true' })]) },
  { what: 'a string where an object is expected', code: 'BAD_SHAPE', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([{ name: 'm_ARTIFACT_OUTPUTS', value: 'gs://bkt/m.pt' }]) },
  { what: 'isBuildArtifact neither "true" nor "false"', code: 'BAD_SHAPE', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', isBuildArtifact: 'yes' })]) },
  { what: 'a non-string field', code: 'BAD_SHAPE', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', isBuildArtifact: true })]) },
  { what: 'a _URI without its _DIGEST', code: 'MISSING_DIGEST', result: 'MODEL_ARTIFACT_URI', taskRun: run([{ name: 'MODEL_ARTIFACT_URI', value: 'gs://bkt/m.pt' }, { name: 'MODEL-ARTIFACT_DIGEST', value: `sha256:${A}` }]) },
  { what: 'a _DIGEST without its _URI', code: 'MISSING_URI', result: 'MODEL_ARTIFACT_DIGEST', taskRun: run([{ name: 'MODEL_ARTIFACT_DIGEST', value: `sha256:${A}` }]) },
  { what: 'a pair with a bad digest', code: 'BAD_DIGEST', result: 'M_ARTIFACT_DIGEST', taskRun: run([{ name: 'M_ARTIFACT_URI', value: 'gs://bkt/m.pt' }, { name: 'M_ARTIFACT_DIGEST', value: 'latest' }]) },
  { what: 'a pair outside GCS', code: 'BAD_URI', result: 'M_ARTIFACT_URI', taskRun: run([{ name: 'M_ARTIFACT_URI', value: 's3://b/m.pt' }, { name: 'M_ARTIFACT_DIGEST', value: `sha256:${A}` }]) },
  { what: 'an array where a string is expected', code: 'BAD_SHAPE', result: 'M_ARTIFACT_URI', taskRun: run([{ name: 'M_ARTIFACT_URI', value: ['gs://bkt/m.pt'] }]) },
  { what: 'an input without uri', code: 'MISSING_URI', result: 'data_ARTIFACT_INPUTS', taskRun: run([output('data_ARTIFACT_INPUTS', { digest: `sha256:${A}` })]) },
  { what: 'an input that is not a URI', code: 'BAD_URI', result: 'data_ARTIFACT_INPUTS', taskRun: run([output('data_ARTIFACT_INPUTS', { uri: 'cifar10 train split' })]) },
  { what: 'an input with a bad digest', code: 'BAD_DIGEST', result: 'data_ARTIFACT_INPUTS', taskRun: run([output('data_ARTIFACT_INPUTS', { uri: 'gs://d/x/', digest: 'sha1:xyz' })]) },
  { what: 'a git URL without its commit', code: 'MISSING_DIGEST', result: 'CHAINS-GIT_URL', taskRun: run([{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/y' }]) },
  { what: 'a git branch instead of a commit', code: 'BAD_DIGEST', result: 'CHAINS-GIT_COMMIT', taskRun: run([{ name: 'CHAINS-GIT_URL', value: 'https://github.com/x/y' }, { name: 'CHAINS-GIT_COMMIT', value: 'main' }]) },
  { what: 'a git commit without its URL', code: 'MISSING_URI', result: 'CHAINS-GIT_COMMIT', taskRun: run([], [], { params: [{ name: 'CHAINS-GIT_COMMIT', value: SHA1 }] }) },
  {
    what: 'the same output with two digests',
    code: 'CONFLICT',
    result: 'again_ARTIFACT_OUTPUTS',
    taskRun: run([output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: `sha256:${A}` }), output('again_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: `sha256:${B}` })]),
  },
  { what: 'a result without a value', code: 'BAD_SHAPE', result: 'm_ARTIFACT_OUTPUTS', taskRun: run([{ name: 'm_ARTIFACT_OUTPUTS' }]) },
  { what: 'a result without a name', code: 'BAD_SHAPE', result: 'status.results[0]', taskRun: run([{ value: 'x' } as unknown as R]) },
];

describe('when a type hint is malformed', () => {
  for (const c of malformed) {
    it(`refuses ${c.what} with ${c.code}, naming the result`, () => {
      assert.throws(
        () => readTypeHints(c.taskRun),
        (err: unknown) => {
          assert.ok(err instanceof HintError, `expected a HintError, got ${String(err)}`);
          assert.equal(err.code, c.code);
          assert.equal(err.resultName, c.result);
          assert.ok(err.message.includes(`"${c.result}"`), err.message);
          return true;
        },
      );
    });
  }

  it('names the step when the malformed hint is a step result', () => {
    const taskRun = run([], [{ name: 'train', results: [output('m_ARTIFACT_OUTPUTS', { uri: 'gs://bkt/m.pt', digest: 'sha256:0' })] }]);
    assert.throws(() => readTypeHints(taskRun), (err: unknown) => err instanceof HintError && err.step === 'train' && /\(step train\)/.test(err.message));
  });

  it('refuses to build a statement rather than leave the hint out', () => {
    const input = loadCase('cpu-pytorch');
    input.taskRun.status?.results?.push({ name: 'model_ARTIFACT_OUTPUTS', value: 'gs://bkt/m.pt' });
    assert.throws(() => buildStatement(input), { name: 'HintError', code: 'BAD_SHAPE', resultName: 'model_ARTIFACT_OUTPUTS' });
  });
});
