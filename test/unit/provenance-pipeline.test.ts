// The pipeline-level statement (docs/buildtype-pipeline.md): golden statements for Tekton Chains'
// v2alpha4 pipeline test data and for our own training pipelines, a field-by-field comparison with
// Chains' expected values in which every difference is one the document lists, and what a user of
// a pipeline's provenance notices. Regenerate goldens with
//   UPDATE_GOLDEN=1 node --test test/unit/provenance-pipeline.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { denyCheck, parseDependencyRule, sourceRefCheck, sourceRepoCheck, statementFacts } from '../../src/policy/index.ts';
import { buildPipelineStatement, HintError, PIPELINE_BUILD_TYPE, readPipelineTypeHints, serializeStatement } from '../../src/provenance/index.ts';
import type { BuildPipelineStatementInput, JsonValue, PipelineRun, ResourceDescriptor, Statement, TaskRun } from '../../src/provenance/index.ts';
import type { InTotoStatement } from '../../src/verify/index.ts';
import { caseNames, goldenModes, loadCase, readChains, readGolden, writeGolden } from '../fixtures/provenance-pipeline/load.ts';
import type { ChainsCase, ChainsDescriptor, ChainsLevel, LoadOptions } from '../fixtures/provenance-pipeline/load.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const TASK_ANNOTATION = 'slsa-ml.dev/pipelineTask';
const TASKRUN_ANNOTATION = 'slsa-ml.dev/taskRun';

function build(input: BuildPipelineStatementInput): Statement {
  return buildPipelineStatement(input);
}

function deps(statement: Statement): ResourceDescriptor[] {
  return statement.predicate.buildDefinition.resolvedDependencies ?? [];
}

function byproductsOf(statement: Statement): ResourceDescriptor[] {
  return statement.predicate.runDetails.byproducts ?? [];
}

function internal(statement: Statement): Record<string, JsonValue> {
  return statement.predicate.buildDefinition.internalParameters ?? {};
}

function tasks(statement: Statement): Array<Record<string, JsonValue>> {
  return internal(statement).tasks as Array<Record<string, JsonValue>>;
}

function asInToto(statement: Statement): InTotoStatement {
  return JSON.parse(serializeStatement(statement).toString('utf8')) as InTotoStatement;
}

function decoded(descriptor: ResourceDescriptor): unknown {
  return JSON.parse(Buffer.from(descriptor.content ?? '', 'base64').toString('utf8'));
}

function modeName(options: LoadOptions): string {
  return options.deepInspection === false ? 'without deep inspection' : 'with deep inspection';
}

function child(input: BuildPipelineStatementInput, pipelineTask: string, index = 0): TaskRun {
  const found = input.children.filter((c) => c.pipelineTask === pipelineTask)[index];
  assert.ok(found, `no child for pipeline task ${pipelineTask}`);
  return found.taskRun;
}

function results(run: TaskRun): Array<{ name: string; value: unknown }> {
  return run.status?.results as Array<{ name: string; value: unknown }>;
}

describe('when a finished PipelineRun is turned into provenance', () => {
  const cases = caseNames();

  it('has golden cases for Chains\' test data and for our own pipelines', () => {
    assert.deepEqual(cases, ['chains-e2e-repeated-results', 'chains-pipelinerun1', 'chains-pipelinerun2', 'chains-remote-resolver', 'ml-clone-train-upload', 'ml-matrix']);
  });

  for (const name of cases) {
    for (const options of goldenModes(name)) {
      it(`produces the expected statement for ${name} (${modeName(options)})`, () => {
        const bytes = serializeStatement(build(loadCase(name, options)));
        if (update) writeGolden(name, bytes, options);
        const golden = readGolden(name, options) as Statement;
        assert.deepEqual(JSON.parse(bytes.toString('utf8')), golden);
        assert.equal(bytes.toString('utf8'), serializeStatement(golden).toString('utf8'));
      });
    }

    it(`${name}: every child's pipeline task, from status.childReferences, agrees with the label Tekton set on it`, () => {
      for (const c of loadCase(name).children) assert.equal(c.taskRun.metadata?.labels?.['tekton.dev/pipelineTask'], c.pipelineTask);
    });
  }

  it('gives byte-identical statements for the same input, whatever order its objects list their keys in', () => {
    const input = loadCase('ml-clone-train-upload');
    const first = serializeStatement(build(input));
    assert.ok(first.equals(serializeStatement(build(loadCase('ml-clone-train-upload')))));
    assert.ok(first.equals(serializeStatement(build(reorderKeys(input) as BuildPipelineStatementInput))));
  });

  it('leaves its input untouched', () => {
    const input = loadCase('ml-clone-train-upload');
    const before = structuredClone(input);
    build(input);
    assert.deepEqual(input, before);
  });
});

/** The same JSON with every object's keys in reverse order. */
function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorderKeys(v)]));
}

// ---------------------------------------------------------------------------------------------
// Tekton Chains v2alpha4, field by field. Chains' values are first adapted as chains.json lists
// (a value our reader refuses, replaced wherever it is a whole value by one it reads); each
// difference left is asserted as the one docs/buildtype-pipeline.md lists.

/** Every whole string value equal to an adapted Chains value becomes ours (also inside JSON content). */
function adapt<T>(value: T, chains: ChainsCase): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return chains.adapted.find((a) => a.chains === v)?.ours ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, m]) => [k, walk(m)]));
    return v;
  };
  return walk(value) as T;
}

/** The inverse, on our input: Chains' original value back where ours stands. */
function unadapt<T>(value: T, ours: string, original: string): T {
  const walk = (v: unknown): unknown => {
    if (v === ours) return original;
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, m]) => [k, walk(m)]));
    return v;
  };
  return walk(value) as T;
}

function sortedDescriptors(list: ChainsDescriptor[]): string[] {
  return list.map((d) => JSON.stringify({ name: d.name ?? null, uri: d.uri ?? null, digest: d.digest ?? null })).sort();
}

/**
 * Our dependency under Chains' name: `pipeline` stays; `pipelineTask/<task>` is Chains'
 * `pipelineTask`; a step or sidecar image (`pipelineTask/<task>/step/<step>`) has no name in
 * Chains; `pipelineTask/<task>/stepAction/<step>` is Chains' `stepAction/<step>`; `source` and
 * `inputs/<result>` are Chains' `inputs/result`.
 */
function chainsName(name: string | undefined): string | undefined {
  if (name === 'pipeline') return 'pipeline';
  if (name !== undefined && /^pipelineTask\/[^/]+$/.test(name)) return 'pipelineTask';
  if (name !== undefined && /^pipelineTask\/[^/]+\/(step|sidecar)\//.test(name)) return undefined;
  if (name !== undefined && /^pipelineTask\/[^/]+\/stepAction\//.test(name)) return name.replace(/^pipelineTask\/[^/]+\//, '');
  if (name === 'source' || name?.startsWith('inputs/') === true) return 'inputs/result';
  assert.fail(`dependency ${String(name)} has no counterpart in Chains' statement`);
}

/** Chains lists a uri + digest once (keeping the first), but always keeps `pipeline`, `task` and `stepAction/…`. */
function chainsDedup(list: ChainsDescriptor[]): ChainsDescriptor[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = JSON.stringify({ uri: d.uri, digest: d.digest });
    const always = d.name === 'pipeline' || d.name === 'task' || d.name?.startsWith('stepAction/') === true;
    if (seen.has(key) && !always) return false;
    seen.add(key);
    return true;
  });
}

const RESULT_NAME = /^(pipelineRunResults|taskRunResults|stepResults)\/([^/]+)\/(.+)$/;
const IMAGE_RESULT = (name: string): boolean => name.endsWith('IMAGE_URL') || name.endsWith('IMAGE_DIGEST') || name === 'IMAGES';

function chainsCases(): Array<{ name: string; chains: ChainsCase }> {
  return caseNames().flatMap((name) => {
    const chains = readChains(name);
    return chains ? [{ name, chains }] : [];
  });
}

describe('compared with Tekton Chains v2alpha4 (pipeline level), field by field', () => {
  it('covers every Chains pipeline-level case we transcribed', () => {
    assert.deepEqual(chainsCases().map((c) => c.name), ['chains-e2e-repeated-results', 'chains-pipelinerun1', 'chains-pipelinerun2', 'chains-remote-resolver']);
  });

  for (const { name, chains } of chainsCases()) {
    describe(name, () => {
      const expected = chains.expected;
      const statement = build(loadCase(name));

      it('reads Chains\' data only after the listed adaptations: each original value is refused, not ignored', () => {
        for (const a of chains.adapted) {
          const input = unadapt(loadCase(name), a.ours, a.chains);
          assert.throws(() => build(input), (err: unknown) => err instanceof HintError && err.code === a.refusedAs, `${a.chains} should be refused as ${a.refusedAs}`);
        }
        for (const r of chains.removed) {
          const input = loadCase(name);
          assert.equal(input.pipelineRun.metadata?.name, r.run);
          input.pipelineRun.status?.results?.push(r.result);
          assert.throws(() => build(input), (err: unknown) => err instanceof HintError && err.code === r.refusedAs && err.resultName === r.result.name);
        }
      });

      it('externalParameters: runSpec is the PipelineRun spec and buildConfigSource is as Chains writes it; we add name and namespace', () => {
        const ours = statement.predicate.buildDefinition.externalParameters;
        const pr = loadCase(name).pipelineRun;
        assert.deepEqual(ours.runSpec, adapt(expected.externalParameters.runSpec, chains));
        assert.deepEqual(ours.buildConfigSource, expected.externalParameters.buildConfigSource);
        const added = Object.keys(ours).filter((k) => !(k in expected.externalParameters)).sort();
        assert.deepEqual(added, ['name', 'namespace']);
        assert.deepEqual([ours.name, ours.namespace], [pr.metadata?.name, pr.metadata?.namespace]);
      });

      if (expected.invocationId !== undefined) {
        it('runDetails: invocationId is the PipelineRun UID, startedOn and finishedOn its start and completion; builder.id as configured', () => {
          const { metadata, builder } = statement.predicate.runDetails;
          assert.deepEqual(metadata, { invocationId: expected.invocationId, startedOn: expected.startedOn, finishedOn: expected.finishedOn });
          assert.equal(builder.id, expected.builderId);
          // Difference: builder.version (ours) names the operator and the Tekton release.
          assert.deepEqual(builder.version, { 'slsa-ml': '0.1.0' });
        });

        it('buildType: ours is the documented tekton-pipeline/v1, not Chains\' generic slsa buildType', () => {
          assert.equal(expected.buildType, 'https://tekton.dev/chains/v2/slsa');
          assert.equal(statement.predicate.buildDefinition.buildType, PIPELINE_BUILD_TYPE);
        });

        it('internalParameters: Chains\' feature flags as they are; we add tasks (one per child TaskRun)', () => {
          const ours = internal(statement);
          assert.deepEqual(ours['tekton-pipelines-feature-flags'], expected.internalParameters?.['tekton-pipelines-feature-flags']);
          const added = Object.keys(ours).filter((k) => !(k in (expected.internalParameters ?? {})));
          assert.deepEqual(added, ['tasks']);
          assert.deepEqual(tasks(statement).map((t) => [t.pipelineTask, t.taskRun]), loadCase(name).children.map((c) => [c.pipelineTask, c.taskRun.metadata?.name]));
        });
      }

      const levels: Array<[LoadOptions, ChainsLevel | undefined]> = [[{}, expected.deepInspection], [{ deepInspection: false }, expected.noDeepInspection]];
      for (const [options, level] of levels) {
        if (level === undefined) continue;
        describe(modeName(options), () => {
          const input = loadCase(name, options);
          const ours = build(input);
          const want = adapt(level, chains);

          it('subjects: each model Chains finds (a build artifact) is a model we find, named by its object path, with its uri; container images are not subjects', () => {
            const hinted = readPipelineTypeHints(input.pipelineRun, input.children, { deepInspection: options.deepInspection ?? true }).outputs.filter((o) => o.isBuildArtifact);
            const models = want.subjects.filter((s) => hinted.some((h) => h.uri === s.name));
            const images = want.subjects.filter((s) => !models.includes(s));
            assert.deepEqual(hinted.map((h) => h.uri).sort(), models.map((s) => s.name).sort(), 'no model of ours that Chains does not find');
            for (const s of models) {
              const hint = hinted.find((h) => h.uri === s.name);
              assert.deepEqual({ sha256: hint?.digest?.hex }, s.digest);
              assert.deepEqual(ours.subject.find((o) => o.uri === s.name), { name: (s.name ?? '').replace('gs://chains-test/', ''), uri: s.name, digest: s.digest });
            }
            const imageNames = imageResultNames(input);
            for (const image of images) {
              const longForm = models.some((m) => `index.docker.io/library/${(m.name ?? '').replace('gs://chains-test/', '')}` === image.name);
              assert.ok(imageNames.has(image.name ?? '') || longForm, `${String(image.name)}: a Chains subject that is neither a model nor a container image`);
            }
            assert.equal(ours.subject.length, models.length);
          });

          it('resolvedDependencies: the same uris and digests under Chains\' names, once Chains\' de-duplication is applied', () => {
            const ourDeps = deps(ours);
            const asChains = chainsDedup(ourDeps.map((d): ChainsDescriptor => {
              const renamed = chainsName(d.name);
              return { ...(renamed === undefined ? {} : { name: renamed }), ...(d.uri === undefined ? {} : { uri: d.uri }), ...(d.digest === undefined ? {} : { digest: d.digest }) };
            }));
            assert.deepEqual(sortedDescriptors(asChains), sortedDescriptors(want.resolvedDependencies));
          });

          it('resolvedDependencies: named per pipeline task and step, annotated with the child they came from, tenant-reported where the tenant wrote them', () => {
            for (const d of deps(ours)) checkDependency(d, input);
          });

          it('byproducts: plain results as Chains names them (annotated); hint results become dependencies or typed byproducts; image results are byproducts here', () => {
            const ourByproducts = byproductsOf(ours);
            const matched = new Set<ResourceDescriptor>();
            for (const b of want.byproducts) {
              const same = checkChainsByproduct(b, ours, input, chains);
              if (same) matched.add(same);
            }
            const extra = ourByproducts.filter((d) => !matched.has(d)).map((d) => RESULT_NAME.exec(d.name ?? '')?.[3] ?? '');
            assert.ok(extra.every(IMAGE_RESULT), `only image results are byproducts here and not in Chains: ${extra.join(', ')}`);
          });
        });
      }
    });
  }
});

/** The TaskRun name → pipeline task of each child; the PipelineRun's own name maps to undefined. */
function runsOf(input: BuildPipelineStatementInput): Map<string, string | undefined> {
  return new Map([[input.pipelineRun.metadata?.name ?? '', undefined], ...input.children.map((c) => [c.taskRun.metadata?.name ?? '', c.pipelineTask] as const)]);
}

function annotation(d: ResourceDescriptor, key: string): string | undefined {
  const value = d.annotations?.[key];
  return typeof value === 'string' ? value : undefined;
}

function isReported(d: ResourceDescriptor): boolean {
  return d.name === 'source' || d.name?.startsWith('inputs/') === true;
}

/**
 * `pipeline` (unannotated, with its entryPoint); what the PipelineRun's own params and results
 * reported (unannotated, tenant-reported); then per child: `pipelineTask/<task>[/(step|sidecar|
 * stepAction)/<step>]` observed by the platform, or a source or input it reported (tenant-reported),
 * each annotated with the child's pipeline task and TaskRun.
 */
function checkDependency(d: ResourceDescriptor, input: BuildPipelineStatementInput): void {
  const task = annotation(d, TASK_ANNOTATION);
  if (d.name === 'pipeline') {
    assert.equal(task, undefined);
    assert.equal(d.annotations?.entryPoint, input.pipelineRun.status?.provenance?.refSource?.entryPoint);
  } else if (task === undefined) {
    assert.ok(isReported(d), `${String(d.name)} without a pipeline task`);
    assert.equal(d.annotations?.tenantReported, true);
  } else {
    checkChildDependency(d, task, input);
  }
}

function checkChildDependency(d: ResourceDescriptor, task: string, input: BuildPipelineStatementInput): void {
  const taskRun = annotation(d, TASKRUN_ANNOTATION) ?? '';
  assert.equal(runsOf(input).get(taskRun), task, `${String(d.name)}: its TaskRun ran pipeline task ${task}`);
  const named = /^pipelineTask\/([^/]+)(\/(step|sidecar|stepAction)\/(.+))?$/.exec(d.name ?? '');
  if (named) {
    checkObservedDependency(d, named, input.children.find((c) => c.taskRun.metadata?.name === taskRun)?.taskRun);
  } else {
    assert.ok(isReported(d), `${String(d.name)} from ${task}`);
    assert.equal(d.annotations?.tenantReported, true);
  }
}

/** `pipelineTask/<task>` (its entryPoint) or `pipelineTask/<task>/<kind>/<step>` (a step of its TaskRun), not tenant-reported. */
function checkObservedDependency(d: ResourceDescriptor, named: RegExpExecArray, taskRun: TaskRun | undefined): void {
  assert.equal(named[1], annotation(d, TASK_ANNOTATION));
  assert.equal(d.annotations?.tenantReported, undefined, 'observed by the platform');
  if (named[2] === undefined) assert.equal(d.annotations?.entryPoint, taskRun?.status?.provenance?.refSource?.entryPoint);
  else assert.ok(stepNames(taskRun?.status).includes(named[4] ?? ''), `${String(d.name)}: a step of its TaskRun`);
}

function stepNames(status: TaskRun['status']): string[] {
  return ((status?.steps ?? []) as Array<{ name: string }>).map((s) => s.name);
}

interface ChainsByproduct {
  readonly kind: string;
  readonly run: string;
  readonly result: string;
  readonly content: Record<string, string>;
  /** Our byproduct of the same name, if any. */
  readonly same: ResourceDescriptor | undefined;
  /** Whether one of our descriptors came from the same run (annotated with its TaskRun, or not at all for the PipelineRun). */
  readonly fromRun: (d: ResourceDescriptor) => boolean;
}

/**
 * One of Chains' byproducts in our statement; returns our byproduct of the same name where there is
 * one. An output that is not a model keeps its name and has its uri and digest instead of content;
 * an input and a git pair are dependencies instead; an output without a uri is refused (listed in
 * chains.json); any other result is the same byproduct, annotated.
 */
function checkChainsByproduct(b: ChainsDescriptor, ours: Statement, input: BuildPipelineStatementInput, chains: ChainsCase): ResourceDescriptor | undefined {
  const [, kind = '', run = '', result = ''] = RESULT_NAME.exec(b.name ?? '') ?? [];
  assert.notEqual(kind, '', `${String(b.name)}: a Chains byproduct name`);
  const fromPipelineRun = runsOf(input).get(run) === undefined;
  const found: ChainsByproduct = {
    kind, run, result,
    content: adapt(JSON.parse(b.content ?? 'null') as Record<string, string>, chains),
    same: byproductsOf(ours).find((d) => d.name === b.name),
    fromRun: (d) => annotation(d, TASKRUN_ANNOTATION) === (fromPipelineRun ? undefined : run),
  };
  if (result.endsWith('ARTIFACT_OUTPUTS')) return checkOutputByproduct(found, chains);
  if (result.endsWith('ARTIFACT_INPUTS')) return checkInputByproduct(found, ours);
  if (result === 'CHAINS-GIT_URL' || result === 'CHAINS-GIT_COMMIT') {
    assert.equal(found.same, undefined);
    assert.ok(deps(ours).some((d) => d.name === 'source' && found.fromRun(d)), `${result}: a source dependency`);
    return undefined;
  }
  return checkPlainByproduct(found, b, input);
}

function checkOutputByproduct({ result, content, same, fromRun }: ChainsByproduct, chains: ChainsCase): ResourceDescriptor | undefined {
  if (content.uri === undefined) {
    assert.ok(chains.removed.some((r) => r.result.name === result), `${result} must be a refused result`);
    return undefined;
  }
  assert.ok(same, `${result} missing`);
  assert.ok(fromRun(same));
  assert.deepEqual({ uri: same.uri, digest: same.digest, content: same.content }, { uri: content.uri, digest: { sha256: (content.digest ?? '').replace('sha256:', '') }, content: undefined });
  return same;
}

function checkInputByproduct({ result, content, same, fromRun }: ChainsByproduct, ours: Statement): undefined {
  assert.equal(same, undefined);
  const [algorithm = '', hex = ''] = (content.digest ?? '').split(':');
  assert.ok(deps(ours).some((d) => d.name === `inputs/${result}` && d.uri === content.uri && d.digest?.[algorithm] === hex && fromRun(d)), `${result}: an input dependency`);
  return undefined;
}

function checkPlainByproduct({ kind, run, result, content, same }: ChainsByproduct, b: ChainsDescriptor, input: BuildPipelineStatementInput): ResourceDescriptor {
  assert.ok(same, `${result} missing`);
  assert.deepEqual(decoded(same), content);
  assert.equal(same.mediaType, b.mediaType);
  const step = kind === 'stepResults' ? annotation(same, 'slsa-ml.dev/step') : undefined;
  const pipelineTask = runsOf(input).get(run);
  assert.deepEqual(same.annotations, {
    tenantReported: true,
    ...(step === undefined ? {} : { 'slsa-ml.dev/step': step }),
    ...(pipelineTask === undefined ? {} : { [TASK_ANNOTATION]: pipelineTask, [TASKRUN_ANNOTATION]: run }),
  });
  return same;
}

/** Container images named by IMAGE_URL / IMAGES results of the PipelineRun and its children. */
function imageResultNames(input: BuildPipelineStatementInput): Set<string> {
  const names = new Set<string>();
  for (const run of [input.pipelineRun, ...input.children.map((c) => c.taskRun)]) {
    for (const r of results(run) ?? []) {
      if (typeof r.value !== 'string') continue;
      if (r.name.endsWith('IMAGE_URL')) names.add(r.value.trim());
      if (r.name === 'IMAGES') for (const ref of r.value.split(/[\s,]+/).filter(Boolean)) names.add(ref.split('@')[0] ?? '');
    }
  }
  return names;
}

describe('where Chains reads a source from the PipelineRun itself', () => {
  // test/testdata/slsa/v2alpha4/pipeline-output-image.json (Tekton Chains e2e, Apache-2.0): the
  // PipelineRun's params CHAINS-GIT_COMMIT "my-git-commit" and CHAINS-GIT_URL "https://my-git-url"
  // give the dependency {name: inputs/result, uri: git+https://my-git-url.git, digest: {sha1: my-git-commit}}.
  // The commit is a full one here: ours refuses "my-git-commit".
  const COMMIT = '5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d1e0f5a4b';

  function withParams(where: 'spec' | 'pipelineSpec'): BuildPipelineStatementInput {
    const input = loadCase('chains-remote-resolver');
    const params = [{ name: 'CHAINS-GIT_COMMIT', value: COMMIT }, { name: 'CHAINS-GIT_URL', value: 'https://my-git-url' }];
    const pr = input.pipelineRun as PipelineRun & { spec: { params: unknown[] }; status: { pipelineSpec: { params: unknown[] } } };
    if (where === 'spec') pr.spec.params.push(...params);
    else pr.status.pipelineSpec.params.push(...params.map((p) => ({ name: p.name, type: 'string', default: p.value })));
    return input;
  }

  for (const where of ['spec', 'pipelineSpec'] as const) {
    it(`reads CHAINS-GIT_* from the PipelineRun's ${where === 'spec' ? 'params' : 'Pipeline\'s param defaults'}, as a source named source`, () => {
      const source = deps(build(withParams(where))).filter((d) => d.name === 'source');
      assert.deepEqual(source, [{ name: 'source', uri: 'git+https://my-git-url.git', digest: { sha1: COMMIT }, annotations: { tenantReported: true } }]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Our own pipelines: what a user of the provenance notices.

describe('a clone → train (GPU) → upload pipeline (ml-clone-train-upload)', () => {
  const name = 'ml-clone-train-upload';
  const MODEL = 'gs://ml-models-prod/resnet50/v8/model.safetensors';
  const CHECKPOINT = 'gs://ml-models-prod/resnet50/v8/checkpoints/epoch-30.pt';
  const statement = build(loadCase(name));
  const commit = results(child(loadCase(name), 'clone')).find((r) => r.name === 'CHAINS-GIT_COMMIT')?.value as string;

  it('names the commit the clone task checked out `source`, annotated with the clone task, so verify --source-repo and --source-ref work unchanged', async () => {
    const sources = deps(statement).filter((d) => d.name === 'source');
    assert.deepEqual(sources, [{
      name: 'source', uri: 'git+https://github.com/example/resnet-training.git', digest: { sha1: commit },
      annotations: { tenantReported: true, [TASK_ANNOTATION]: 'clone', [TASKRUN_ANNOTATION]: 'train-resnet50-pl-7k2xq-clone' },
    }]);
    assert.deepEqual(await sourceRepoCheck('https://github.com/example/resnet-training').evaluate(asInToto(statement)), { ok: true, detail: 'git+https://github.com/example/resnet-training.git' });
    assert.equal((await sourceRefCheck(commit, 'https://github.com/example/resnet-training').evaluate(asInToto(statement))).ok, true);
  });

  it('records the frameworks the train task reported as package URLs, so query and verify --deny find the model', async () => {
    const facts = statementFacts(asInToto(statement));
    assert.deepEqual(facts.packages, ['pkg:pypi/torch@2.8.0', 'pkg:pypi/torchvision@0.23.0', 'pkg:pypi/safetensors@0.6.2']);
    assert.ok(deps(statement).filter((d) => d.uri?.startsWith('pkg:')).every((d) => d.annotations?.[TASK_ANNOTATION] === 'train'));
    const denied = await denyCheck(parseDependencyRule('pkg:pypi/torch@<2.9')).evaluate(asInToto(statement));
    assert.equal(denied.ok, false);
  });

  it('puts the GPU, its node pool and machine on the train task only', () => {
    const byTask: Record<string, Record<string, JsonValue> | undefined> = Object.fromEntries(tasks(statement).map((t) => [t.pipelineTask as string, t]));
    assert.deepEqual(byTask.train?.accelerator, { kind: 'gpu', type: 'nvidia-l4', count: 1 });
    assert.deepEqual(byTask.train?.node, { name: 'gke-ml-prod-gpu-l4-pool-9c2b4e6f-m3x8', nodePool: 'gpu-l4-pool', machineType: 'g2-standard-8' });
    assert.equal(byTask.clone?.accelerator, undefined);
    assert.equal(byTask.upload?.accelerator, undefined);
    assert.equal((byTask.upload?.node as Record<string, string>).nodePool, 'cpu-pool');
    assert.equal(internal(statement).accelerator, undefined, 'no pipeline-wide accelerator');
    assert.equal(internal(statement).node, undefined, 'no pipeline-wide node');
  });

  it('counts the attempts of the retried train task, and only of it', () => {
    assert.deepEqual(tasks(statement).map((t) => [t.pipelineTask, t.attempts ?? 1, t.outcome]), [['clone', 1, 'Succeeded'], ['train', 2, 'Succeeded'], ['upload', 1, 'Succeeded']]);
  });

  it('lists the skipped task under skippedTasks with Tekton\'s reason, and not among the tasks', () => {
    assert.deepEqual(internal(statement).skippedTasks, [{ name: 'notify', reason: 'When Expressions evaluated to false' }]);
    assert.ok(!tasks(statement).some((t) => t.pipelineTask === 'notify'));
  });

  it('the model the upload task reported and the PipelineRun re-exported is one output, one subject and never a byproduct', () => {
    const input = loadCase(name);
    const outputs = readPipelineTypeHints(input.pipelineRun, input.children).outputs.filter((o) => o.uri === MODEL);
    assert.equal(outputs.length, 1);
    assert.equal(outputs[0]?.isBuildArtifact, true);
    assert.equal(outputs[0]?.origin, 'PipelineRun train-resnet50-pl-7k2xq');
    assert.deepEqual(statement.subject.map((s) => s.uri), [MODEL]);
    assert.ok(!byproductsOf(statement).some((b) => b.uri === MODEL));
  });

  it('the checkpoint the train task reported and the PipelineRun re-exported is one byproduct', () => {
    const checkpoints = byproductsOf(statement).filter((b) => b.uri === CHECKPOINT);
    assert.deepEqual(checkpoints.map((b) => b.name), ['pipelineRunResults/train-resnet50-pl-7k2xq/checkpoint_ARTIFACT_OUTPUTS']);
  });

  it('refuses a model the upload task and the PipelineRun report with two digests, naming both', () => {
    const input = loadCase(name);
    const reported = results(child(input, 'upload')).find((r) => r.name === 'model_ARTIFACT_OUTPUTS')?.value as Record<string, string>;
    reported.digest = `sha256:${'0'.repeat(64)}`;
    assert.throws(() => build(input), (err: unknown) => err instanceof HintError && err.code === 'CONFLICT'
      && err.message.includes('pipeline task upload (TaskRun train-resnet50-pl-7k2xq-upload)') && err.message.includes('PipelineRun train-resnet50-pl-7k2xq') && err.message.includes(MODEL));
  });

  it('refuses a malformed hint of a child, naming its pipeline task and TaskRun', () => {
    const input = loadCase(name);
    results(child(input, 'clone')).push({ name: 'CHAINS-GIT_COMMIT', value: 'main' });
    assert.throws(() => build(input), (err: unknown) => err instanceof HintError && err.message.startsWith('pipeline task clone (TaskRun train-resnet50-pl-7k2xq-clone): '));
  });

  it('without deep inspection reads no child result: no source, frameworks or child byproducts; definitions, images and placement stay', () => {
    const shallow = build(loadCase(name, { deepInspection: false }));
    assert.deepEqual(deps(shallow).map((d) => d.name), ['pipeline', 'pipelineTask/clone', 'pipelineTask/clone/step/clone', 'pipelineTask/train/step/train', 'pipelineTask/upload', 'pipelineTask/upload/step/upload']);
    assert.ok(byproductsOf(shallow).every((b) => b.name?.startsWith('pipelineRunResults/')));
    assert.deepEqual(tasks(shallow), tasks(statement));
    // A malformed child hint is not read either.
    const input = loadCase(name, { deepInspection: false });
    results(child(input, 'clone')).push({ name: 'CHAINS-GIT_COMMIT', value: 'main' });
    assert.doesNotThrow(() => build(input));
  });

  it('orders the PipelineRun\'s own dependencies first, then each child\'s in childReferences order (not de-duplicated across tasks)', () => {
    assert.deepEqual(deps(statement).map((d) => [d.name, d.annotations?.[TASK_ANNOTATION] ?? null]), [
      ['pipeline', null],
      ['pipelineTask/clone', 'clone'], ['pipelineTask/clone/step/clone', 'clone'], ['source', 'clone'],
      ['pipelineTask/train/step/train', 'train'], ['inputs/dataset_ARTIFACT_INPUTS', 'train'], [undefined, 'train'], [undefined, 'train'], [undefined, 'train'],
      ['pipelineTask/upload', 'upload'], ['pipelineTask/upload/step/upload', 'upload'],
    ]);
  });

  it('lists a child that never completed (Chains leaves it out) with its outcome', () => {
    const input = loadCase(name);
    const upload = child(input, 'upload');
    assert.ok(upload.status);
    delete upload.status.completionTime;
    upload.status.conditions = [{ type: 'Succeeded', status: 'False', reason: 'TaskRunCancelled' }];
    const built = build(input);
    assert.deepEqual(tasks(built).at(-1), { pipelineTask: 'upload', taskRun: 'train-resnet50-pl-7k2xq-upload', node: tasks(statement).at(-1)?.node ?? null, outcome: 'TaskRunCancelled' });
    assert.ok(deps(built).some((d) => d.name === 'pipelineTask/upload'));
  });

  it('takes the pipeline task from status.childReferences, never from a label the TaskRun carries', () => {
    const input = loadCase(name);
    const labels = child(input, 'train').metadata?.labels;
    assert.ok(labels);
    labels['tekton.dev/pipelineTask'] = 'clone';
    assert.ok(serializeStatement(build(input)).equals(serializeStatement(statement)));
  });

  it('records the Tekton release a child\'s Pod ran with, and the Pipeline as Tekton resolved it', () => {
    assert.deepEqual(statement.predicate.runDetails.builder.version, { 'slsa-ml': '0.1.0', 'tekton-pipelines': 'v1.9.0' });
    assert.deepEqual(statement.predicate.buildDefinition.externalParameters.buildConfigSource, {
      repository: 'git+https://github.com/example/ml-pipelines.git', ref: 'sha1:de70b20ef1e110069dfbd61e50930466a9155697', path: 'pipelines/train-resnet50.yaml',
    });
  });
});

describe('a matrix: one pipeline task run twice, two models (ml-matrix)', () => {
  const name = 'ml-matrix';
  const statement = build(loadCase(name));
  const [first, second] = loadCase(name).siblings ?? [];

  it('lists each TaskRun of the matrix as a task of its own, with its own placement', () => {
    assert.deepEqual(tasks(statement).map((t) => [t.pipelineTask, t.taskRun]), [['fetch', 'sweep-lr-cifar10-q8m4t-fetch'], ['train', 'sweep-lr-cifar10-q8m4t-train-0'], ['train', 'sweep-lr-cifar10-q8m4t-train-1']]);
    assert.deepEqual(tasks(statement)[1]?.accelerator, { kind: 'gpu', type: 'nvidia-tesla-t4', count: 1 });
    assert.match(tasks(statement)[2]?.clusterFactsOmitted as string, /not found/);
    assert.equal(tasks(statement)[2]?.accelerator, undefined);
  });

  it('tells the two TaskRuns\' images apart by their TaskRun annotation', () => {
    const images = deps(statement).filter((d) => d.name === 'pipelineTask/train/step/train');
    assert.deepEqual(images.map((d) => d.annotations?.[TASKRUN_ANNOTATION]), ['sweep-lr-cifar10-q8m4t-train-0', 'sweep-lr-cifar10-q8m4t-train-1']);
  });

  it('keeps the step that reported the source', () => {
    const [source] = deps(statement).filter((d) => d.name === 'source');
    assert.equal(source?.annotations?.['slsa-ml.dev/step'], 'clone');
    assert.equal(source?.annotations?.[TASK_ANNOTATION], 'fetch');
  });

  it('gives each model a statement of its own, naming the other as a byproduct with the measured digest', () => {
    assert.ok(first && second);
    const other = (s: Statement, uri: string): ResourceDescriptor | undefined => byproductsOf(s).find((b) => b.uri === uri);
    assert.deepEqual(statement.subject.map((s) => s.uri), [first.uri]);
    assert.deepEqual(other(statement, second.uri ?? '')?.digest, second.digest);
    assert.equal(other(statement, second.uri ?? '')?.annotations?.['slsa-ml.dev/measured'], true);
    const theOther = build({ ...loadCase(name), subjects: [second] });
    assert.deepEqual(theOther.subject.map((s) => s.uri), [second.uri]);
    assert.deepEqual(other(theOther, first.uri ?? '')?.digest, first.digest);
  });

  it('has no pipeline definition to record for an inline pipelineSpec', () => {
    assert.ok(!deps(statement).some((d) => d.name === 'pipeline'));
    assert.equal(statement.predicate.buildDefinition.externalParameters.buildConfigSource, undefined);
  });
});

describe('the buildType document', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'buildtype-pipeline.md'), 'utf8');

  it('names the buildType it documents', () => {
    assert.ok(doc.includes(`\`buildType\`: **\`${PIPELINE_BUILD_TYPE}\`**`));
  });

  it('holds the clone → train → upload statement as its complete example', () => {
    const example = /The complete statement of the clone → train → upload run:\s*```json\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'docs/buildtype-pipeline.md has lost its complete example');
    assert.deepEqual(JSON.parse(example), readGolden('ml-clone-train-upload'));
  });

  it('lists each difference from Chains that this test asserts', () => {
    const section = doc.split('## Differences from Tekton Chains v2alpha4 (pipeline level)')[1] ?? '';
    for (const phrase of ['`pipelineTask/<task>`', '`pipelineTask/<task>/step/<step>`', '`source`', '`inputs/<result name>`', '`slsa-ml.dev/pipelineTask`', '`slsa-ml.dev/taskRun`', '`tenantReported`', '`entryPoint`',
      '`name` and `namespace`', '`tasks`', '`skippedTasks`', '`builder.version`', 'buildType', '`IMAGE_URL`', 'de-duplicat', 'childReferences', 'refused', 'deep inspection', 'order']) {
      assert.ok(section.includes(phrase), `the differences section does not mention ${phrase}`);
    }
  });
});
