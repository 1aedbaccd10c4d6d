// slsa-ml attest --taskrun FILE | --pipelinerun FILE: one-shot provenance for a TaskRun, or a
// PipelineRun with its child TaskRuns, that finished before the operator watched it. Measures the
// outputs itself, builds and signs the statement, and writes the two siblings and the OpenSSF
// model-signing signature create-only — the same result the operator would have produced, minus
// the Pod and Node facts unless --pod / --node provide them (a TaskRun only).
import { buildPipelineStatement, buildStatement, serializeStatement, type Node, type Pod, type ProvenanceSettings, type Statement, type Subject } from '../../provenance/index.ts';
import { signStatement, type Signer } from '../../signing/index.ts';
import { manifestOf, modelNameOf, serializeModelSigningStatement, signModelSigningPayload } from '../../model-signing/index.ts';
import { readKubeObject } from '../attest/kube-file.ts';
import { AttestError, measureOutputs, measurePipelineOutputs, outputSchemes, refuseExistingSiblings, storeCreateOnly, type MeasuredOutput } from '../../attest/index.ts';
import type { Storage } from '../../storage/index.ts';
import { readPipelineInput } from '../attest/pipeline-input.ts';
import { checkTaskRun } from '../attest/taskrun-checks.ts';
import type { Command } from '../command.ts';
import { EXIT, InputError, RefusedError, UsageError } from '../errors.ts';
import { parseFlags, type FlagSpecs, type ParsedFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { SIGNER_FLAGS, SIGNER_HELP, signerFromFlags } from '../signer-flags.ts';
import { STORAGE_FLAGS, STORAGE_HELP, storageFromFlags } from '../storage-flags.ts';
import { CLI_VERSION } from '../version.ts';

export const DEFAULT_ATTEST_BUILDER_ID = 'https://slsa-ml.dev/cli/attest';

const FLAGS: FlagSpecs = {
  ...SIGNER_FLAGS,
  ...STORAGE_FLAGS,
  taskrun: { type: 'string' },
  pipelinerun: { type: 'string' },
  taskruns: { type: 'string', multiple: true },
  'no-deep-inspection': { type: 'boolean' },
  pod: { type: 'string' },
  node: { type: 'string' },
  'allowed-prefix': { type: 'string', multiple: true },
  'builder-id': { type: 'string' },
  'no-model-signature': { type: 'boolean' },
  json: { type: 'boolean' },
};

const HELP = `Usage: slsa-ml attest (--taskrun FILE | --pipelinerun FILE [--taskruns FILE]...)
         --allowed-prefix PREFIX... (--key FILE | --kms URI | keyless) [flags]

Writes signed SLSA provenance for a finished training TaskRun or PipelineRun, e.g. one that ran
before the operator was installed. Reads the run's type hints, measures every output marked
isBuildArtifact itself (refusing a reported digest that differs), builds the statement, signs
it, and writes MODEL.sigstore.json and MODEL.intoto.jsonl next to each model, and MODEL.sig: an
OpenSSF model-signing v1.0 signature of the same files, by the same signer, that
\`model_signing verify\` checks. Never overwrites: an existing file of these is refused by name and
nothing is written.

Input (one run):
  --taskrun FILE                the TaskRun as YAML or JSON ("-" = stdin), e.g. from
                                kubectl get taskruns.v1.tekton.dev NAME -o yaml
  --pod FILE, --node FILE       optional, with --taskrun: its Pod and the Pod's Node, for
                                accelerator and node-pool facts (kubectl get pod|node NAME -o yaml)
  --pipelinerun FILE            the PipelineRun as YAML or JSON ("-" = stdin), alone or with its
                                TaskRuns in the same file (YAML documents or a List), e.g. from
                                kubectl get pipelineruns.v1.tekton.dev NAME -o yaml
  --taskruns FILE               the PipelineRun's TaskRuns, one file or several (repeatable), e.g.
                                kubectl get taskruns.v1.tekton.dev -o yaml \\
                                  -l tekton.dev/pipelineRun=NAME
                                Every TaskRun in its status.childReferences must be given, and
                                only those: one missing is an input error, another run's refused.
  --no-deep-inspection          with --pipelinerun: read type hints (models, sources, inputs,
                                frameworks) from the PipelineRun's own results only, not from its
                                TaskRuns'
  --allowed-prefix PREFIX       gs://bucket/prefix/ (or file:///dir/) outputs must lie under
                                (repeatable, at least one)
  --builder-id URI              runDetails.builder.id (default ${DEFAULT_ATTEST_BUILDER_ID})
  --no-model-signature          do not write MODEL.sig (the model-signing signature)

${SIGNER_HELP}

Other:
${STORAGE_HELP}
  --json                        print where the provenance went as JSON
  -h, --help                    show this help

Exit codes: 0 provenance written; 1 refused (digest mismatch, output outside the allowed
prefixes, provenance already exists, a TaskRun that is not the PipelineRun's); 2 usage or input
error.

Examples:
  kubectl -n team-vision get taskruns.v1.tekton.dev train-cifar10-x7k2p -o yaml > tr.yaml
  slsa-ml attest --taskrun tr.yaml --key cosign.key --allowed-prefix gs://ml-models/
  slsa-ml attest --taskrun tr.yaml --allowed-prefix gs://ml-models/ \\
      --kms gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1 \\
      --builder-id https://slsa-ml.dev/operators/prod
  kubectl -n ml get pipelineruns.v1.tekton.dev cifar10-4xk2p -o yaml > pr.yaml
  kubectl -n ml get taskruns.v1.tekton.dev -l tekton.dev/pipelineRun=cifar10-4xk2p -o yaml > trs.yaml
  slsa-ml attest --pipelinerun pr.yaml --taskruns trs.yaml --key cosign.key \\
      --allowed-prefix gs://ml-models/
`;

export const attestCommand: Command = {
  name: 'attest',
  summary: 'sign provenance for a finished TaskRun or PipelineRun (one shot, create-only)',
  help: HELP,
  run: runAttest,
};

interface Attestation {
  readonly model: string;
  readonly sha256: string;
  readonly bundle: string;
  readonly envelope: string;
  /** The model-signing signature; null with --no-model-signature. */
  readonly signature: string | null;
}

/** One finished run, read and checked: what it produced and the statement for each model. */
interface AttestedRun {
  measure(storage: Storage, allowedPrefixes: readonly string[]): Promise<MeasuredOutput[]>;
  /** Settings beyond those every run has (the pipeline's deep inspection). */
  readonly config: Record<string, unknown>;
  statement(settings: ProvenanceSettings, subject: Subject, siblings: Subject[]): Statement;
}

async function runAttest(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])}`);
  checkInputFlags(flags);
  const allowedPrefixes = prefixes(flags.lists.get('allowed-prefix') ?? []);
  const builderId = builderIdOf(flags.strings.get('builder-id') ?? DEFAULT_ATTEST_BUILDER_ID);
  const run = await readRun(flags, io);
  const signer = await signerFromFlags(flags, io);
  const storage = storageFromFlags(flags, io);
  const outputs = await run.measure(storage, allowedPrefixes).catch((err: unknown) => {
    if (!(err instanceof AttestError)) throw err;
    // No outputs: the run's file is unusable (exit 2). A disallowed prefix or a digest mismatch: refused (exit 1).
    throw err.code === 'NO_OUTPUTS' ? new InputError(err.code, err.message, { cause: err }) : new RefusedError(err.code, err.message, { cause: err });
  });
  const modelSignature = !flags.booleans.has('no-model-signature');
  const locations = [];
  for (const output of outputs) locations.push(await refuseExistingSiblings(storage, output.uri, { modelSignature }).catch(asCliError));
  const settings: ProvenanceSettings = {
    builderId,
    builderVersion: { 'slsa-ml': CLI_VERSION },
    operatorConfig: { allowedPrefixes, attestedBy: 'slsa-ml attest', ...run.config },
    outputSchemes: outputSchemes(allowedPrefixes),
  };
  const done: Attestation[] = [];
  for (const [i, output] of outputs.entries()) {
    const loc = locations[i];
    if (!loc) continue;
    const statement = run.statement(settings, output.subject, outputs.map((o) => o.subject));
    const signed = await signStatement(serializeStatement(statement), signer);
    const sig = modelSignature ? await signModelSignature(output, signer) : undefined;
    await storeCreateOnly(storage, loc, signed, sig).catch(asCliError);
    done.push({ model: output.uri, sha256: output.digest.sha256, bundle: loc.bundle, envelope: loc.envelope, signature: sig === undefined ? null : loc.signature });
  }
  io.stdout.write(flags.booleans.has('json') ? `${JSON.stringify({ attested: done }, null, 2)}\n` : render(done));
  return EXIT.ok;
}

// Which run, before anything is read: one of --taskrun and --pipelinerun, each with its own flags.
function checkInputFlags(flags: ParsedFlags): void {
  const taskRun = flags.strings.has('taskrun');
  const pipelineRun = flags.strings.has('pipelinerun');
  if (taskRun && pipelineRun) throw new UsageError('--taskrun and --pipelinerun cannot be used together: attest one run at a time');
  if (!taskRun && !pipelineRun) throw new UsageError('missing --taskrun FILE (the TaskRun as YAML or JSON) or --pipelinerun FILE (the PipelineRun, with its TaskRuns)');
  if (taskRun) {
    const stray = ['taskruns', 'no-deep-inspection'].find((f) => flags.strings.has(f) || flags.lists.has(f) || flags.booleans.has(f));
    if (stray) throw new UsageError(`--${stray} goes with --pipelinerun, not --taskrun`);
    return;
  }
  const podOrNode = ['pod', 'node'].find((f) => flags.strings.has(f));
  if (podOrNode) throw new UsageError(`--${podOrNode} goes with --taskrun: a PipelineRun's Pods and Nodes are not read offline (its statement has no node facts)`);
  const stdin = [flags.strings.get('pipelinerun'), ...(flags.lists.get('taskruns') ?? [])].filter((p) => p === '-').length;
  if (stdin > 1) throw new UsageError('"-" (standard input) can be read once: give the other files by name');
}

async function readRun(flags: ParsedFlags, io: CliIo): Promise<AttestedRun> {
  const pipelineRunPath = flags.strings.get('pipelinerun');
  if (pipelineRunPath !== undefined) return readPipelineRun(pipelineRunPath, flags, io);
  const taskRunPath = flags.strings.get('taskrun') ?? '';
  const taskRun = checkTaskRun(await readKubeObject('--taskrun', taskRunPath, 'TaskRun', io), `--taskrun ${taskRunPath}`);
  const facts = await podAndNode(flags, io);
  return {
    measure: (storage, allowedPrefixes) => measureOutputs(taskRun, storage, { allowedPrefixes }),
    config: {},
    statement: (settings, subject, siblings) => buildStatement({ taskRun, ...facts, settings, subjects: [subject], siblings }),
  };
}

async function readPipelineRun(path: string, flags: ParsedFlags, io: CliIo): Promise<AttestedRun> {
  const { pipelineRun, children, uninspected } = await readPipelineInput(path, flags.lists.get('taskruns') ?? [], io);
  const deepInspection = !flags.booleans.has('no-deep-inspection');
  return {
    measure: (storage, allowedPrefixes) => measurePipelineOutputs(pipelineRun, children, storage, { allowedPrefixes, deepInspection }),
    config: { deepInspection },
    statement: (settings, subject, siblings) => buildPipelineStatement({ pipelineRun, children, uninspected, settings, subjects: [subject], siblings, deepInspection }),
  };
}

// Existing provenance is a refusal (exit 1); a write that reads back different bytes is an input error.
function asCliError(err: unknown): never {
  if (!(err instanceof AttestError)) throw err;
  if (err.code === 'PROVENANCE_EXISTS') throw new RefusedError(err.code, err.message, { cause: err });
  throw new InputError(err.code, err.message, { cause: err });
}

// From the measurement the provenance's subject came from, so the two files never disagree.
function signModelSignature(output: MeasuredOutput, signer: Signer): Promise<string> {
  return signModelSigningPayload(serializeModelSigningStatement(manifestOf(modelNameOf(output.uri), output.digest)), signer);
}

async function podAndNode(flags: ParsedFlags, io: CliIo): Promise<{ pod?: Pod; node?: Node }> {
  const podPath = flags.strings.get('pod');
  const nodePath = flags.strings.get('node');
  return {
    ...(podPath === undefined ? {} : { pod: (await readKubeObject('--pod', podPath, 'Pod', io)) }),
    ...(nodePath === undefined ? {} : { node: (await readKubeObject('--node', nodePath, 'Node', io)) }),
  };
}

function prefixes(values: readonly string[]): string[] {
  if (values.length === 0) throw new UsageError('missing --allowed-prefix gs://bucket/prefix/ (outputs outside every allowed prefix are refused)');
  for (const value of values) {
    if (!/^(gs:\/\/[^/]+\/|file:\/\/\/)/.test(value)) throw new UsageError(`--allowed-prefix ${value}: must start with gs://BUCKET/ or file:///`);
    if (!value.endsWith('/')) throw new UsageError(`--allowed-prefix ${value}: must end with "/" (write ${value}/)`);
  }
  return [...values];
}

function builderIdOf(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) throw new UsageError(`--builder-id ${value}: must be a URI, e.g. https://slsa-ml.dev/operators/prod`);
  return value;
}

function render(done: readonly Attestation[]): string {
  const signature = (a: Attestation): string => (a.signature === null ? '' : `  signature ${a.signature}\n`);
  return done.map((a) => `model     ${a.model}\n  sha256    ${a.sha256}\n  bundle    ${a.bundle}\n  envelope  ${a.envelope}\n${signature(a)}`).join('');
}
