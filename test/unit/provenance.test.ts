// Golden pairs and determinism of the provenance statement. Regenerate goldens with
//   UPDATE_GOLDEN=1 node --test test/unit/provenance.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildStatement, serializeStatement } from '../../src/provenance/index.ts';
import type { Statement } from '../../src/provenance/index.ts';
import { caseNames, loadCase, readGolden, writeGolden } from '../fixtures/provenance/load.ts';

const update = process.env.UPDATE_GOLDEN === '1';

describe('when a finished training TaskRun is turned into provenance', () => {
  const cases = caseNames();

  it('has golden pairs for every kind of run we support', () => {
    const expected = ['chains-sources', 'chains-stepactions', 'cpu-pytorch', 'frameworks-shapes', 'gpu-t4', 'savedmodel-directory', 'sibling-models', 'step-results', 'string-pairs', 'tpu-v5e'];
    assert.deepEqual(cases, expected);
  });

  for (const name of cases) {
    it(`produces the expected statement for ${name}`, () => {
      const bytes = serializeStatement(buildStatement(loadCase(name)));
      if (update) writeGolden(name, bytes);
      const golden = readGolden(name) as Statement;
      assert.deepEqual(JSON.parse(bytes.toString('utf8')), golden);
      assert.equal(bytes.toString('utf8'), serializeStatement(golden).toString('utf8'));
    });
  }

  it('is documented in docs/buildtype.md with the CPU run as its complete example', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'buildtype.md'), 'utf8');
    const example = /The complete statement of the CPU run:\s*```json\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'docs/buildtype.md has lost its complete example');
    assert.deepEqual(JSON.parse(example), readGolden('cpu-pytorch'));
  });
});

/** The same JSON with every object's keys in another order (reversed, then rotated by depth). */
function reorderKeys(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((item) => reorderKeys(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).reverse();
  const shift = entries.length > 0 ? depth % entries.length : 0;
  const rotated = [...entries.slice(shift), ...entries.slice(0, shift)];
  return Object.fromEntries(rotated.map(([key, member]) => [key, reorderKeys(member, depth + 1)]));
}

describe('when the same run is attested more than once', () => {
  for (const name of ['cpu-pytorch', 'step-results']) {
    it(`gives byte-identical statements for the same input (${name})`, () => {
      const first = serializeStatement(buildStatement(loadCase(name)));
      const second = serializeStatement(buildStatement(loadCase(name)));
      assert.ok(first.equals(second));
    });

    it(`gives byte-identical statements when input objects list their keys in another order (${name})`, () => {
      const input = loadCase(name);
      const shuffled = reorderKeys(input) as typeof input;
      assert.notDeepEqual(Object.keys(shuffled.taskRun), Object.keys(input.taskRun));
      const a = serializeStatement(buildStatement(input));
      const b = serializeStatement(buildStatement(shuffled));
      assert.equal(b.toString('utf8'), a.toString('utf8'));
    });
  }

  it('does not depend on the clock', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 });
    const atEpoch = serializeStatement(buildStatement(loadCase('gpu-t4')));
    t.mock.timers.setTime(4_102_444_800_000);
    const in2100 = serializeStatement(buildStatement(loadCase('gpu-t4')));
    assert.ok(atEpoch.equals(in2100));
  });

  it('does not depend on the order the operator measured the subjects in', () => {
    const input = loadCase('cpu-pytorch');
    const second = { name: 'cifar10/v3/config.json', uri: 'gs://ml-models-prod/cifar10/v3/config.json', digest: { sha256: 'a'.repeat(64) } };
    const one = serializeStatement(buildStatement({ ...input, subjects: [...input.subjects, second] }));
    const other = serializeStatement(buildStatement({ ...input, subjects: [second, ...input.subjects] }));
    assert.ok(one.equals(other));
  });

  it('leaves its input untouched', () => {
    const input = loadCase('step-results');
    const before = structuredClone(input);
    buildStatement(input);
    assert.deepEqual(input, before);
  });

  it('serialises without insignificant whitespace and with sorted keys', () => {
    const text = serializeStatement(buildStatement(loadCase('cpu-pytorch'))).toString('utf8');
    assert.ok(text.startsWith('{"_type":"https://in-toto.io/Statement/v1","predicate":{"buildDefinition":{"buildType":'));
    assert.doesNotMatch(text, /\n|": |, "/);
  });
});

describe('when the Pod or the Node could not be read', () => {
  it('leaves out what only they can tell, without failing', () => {
    const input = loadCase('gpu-t4');
    delete input.pod;
    delete input.node;
    const statement = buildStatement(input);
    const internal = statement.predicate.buildDefinition.internalParameters ?? {};
    assert.equal(internal.node, undefined);
    assert.equal(internal.accelerator, undefined);
    assert.deepEqual(statement.predicate.runDetails.builder.version, { 'slsa-ml': '0.1.0' });
  });

  it('still records the accelerator count and node name from the Pod alone', () => {
    const input = loadCase('gpu-t4');
    delete input.node;
    const internal = buildStatement(input).predicate.buildDefinition.internalParameters ?? {};
    assert.deepEqual(internal.accelerator, { kind: 'gpu', count: 1 });
    assert.deepEqual(internal.node, { name: 'gke-ml-prod-gpu-t4-pool-7a3b1c9d-zx2m' });
  });

  it('still records the TPU shape from the Node alone', () => {
    const input = loadCase('tpu-v5e');
    delete input.pod;
    const internal = buildStatement(input).predicate.buildDefinition.internalParameters ?? {};
    assert.deepEqual(internal.accelerator, { kind: 'tpu', type: 'tpu-v5-lite-podslice', topology: '2x4' });
  });
});
