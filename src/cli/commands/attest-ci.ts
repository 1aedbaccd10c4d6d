// slsa-ml attest-ci MODEL: run inside a CI job (GitLab CI/CD, Google Cloud Build), measures the
// model the job produced, describes the job as its platform vouches for it, signs, and writes
// MODEL.sigstore.json, MODEL.intoto.jsonl and MODEL.sig create-only — next to a gs:// model, or
// beside (or in --output-dir for) a local one. The platforms are src/ci/platforms.ts.
import { pathToFileURL } from 'node:url';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';

import { parseReported } from '../../action/reported.ts';
import { refuseExistingSiblings, storeCreateOnly, AttestError } from '../../attest/index.ts';
import { detectedPlatforms, platformNamed, PLATFORMS } from '../../ci/platforms.ts';
import type { CiPlatform } from '../../ci/platform.ts';
import type { ModelDigest } from '../../digest/index.ts';
import { manifestOf, modelNameOf, serializeModelSigningStatement, signModelSigningPayload } from '../../model-signing/index.ts';
import { modelSubject, namedModelSubject, serializeStatement, type ReportedTraining, type Subject } from '../../provenance/index.ts';
import { signStatement } from '../../signing/index.ts';
import { CI_SIGNER_FLAGS, CI_SIGNER_HELP, ciSignerFromFlags } from '../attest-ci/ci-signer.ts';
import type { Command } from '../command.ts';
import { EXIT, InputError, RefusedError, UsageError, hasCode } from '../errors.ts';
import { parseFlags, type FlagSpecs, type ParsedFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { measureModel, resolveModel, type ModelTarget } from '../model-target.ts';
import { STORAGE_FLAGS, STORAGE_HELP, storageFromFlags } from '../storage-flags.ts';
import { CLI_VERSION } from '../version.ts';

const FLAGS: FlagSpecs = {
  ...CI_SIGNER_FLAGS,
  ...STORAGE_FLAGS,
  platform: { type: 'string' },
  'output-dir': { type: 'string' },
  frameworks: { type: 'string' },
  dataset: { type: 'string' },
  'training-runner': { type: 'string' },
  'no-model-signature': { type: 'boolean' },
  json: { type: 'boolean' },
};

const HELP = `Usage: slsa-ml attest-ci MODEL [--platform ${PLATFORMS.map((p) => p.name).join('|')}] [flags]

Run as a step of a CI job: measures MODEL, builds SLSA provenance describing the job as the
platform itself states it (GitLab: the ID token's claims, which the certificate Fulcio issues for
that token carries too; Cloud Build: its own record of the build, read with builds.get —
SLSA_ML_CLOUD_BUILD_API=off reads the step's variables instead), signs it, and writes MODEL.sigstore.json,
MODEL.intoto.jsonl and MODEL.sig (OpenSSF model-signing). Never overwrites: an existing file of
these is refused by name before anything is signed.

MODEL is a local file or directory (the files go next to it, or into --output-dir) or a
gs://bucket/object or gs://bucket/prefix/ (measured in Cloud Storage; the files go next to it).

  --platform NAME               the CI platform (default: the one whose variables are set, e.g.
                                GITLAB_CI=true; Cloud Build: BUILD_ID and PROJECT_ID)
  --output-dir DIR              with a local MODEL: where the three files go
  --frameworks JSON             what training used, as reported: ["pkg:pypi/torch@2.10.0", …]
  --dataset JSON                {"uri": "...", "digest": "sha256:<hex>"}, as reported
  --training-runner JSON        {"os": "Linux", "name": "gpu-runner-1", …}, as reported
  --no-model-signature          do not write MODEL.sig

${CI_SIGNER_HELP}

Other:
${STORAGE_HELP}
  --json                        print where the provenance went as JSON
  -h, --help                    show this help

Exit codes: 0 provenance written; 1 refused (provenance already exists); 2 usage or input error
(no platform detected, a missing or inconsistent CI variable or token claim, unreadable model).

Examples (in a GitLab job with id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore):
  slsa-ml attest-ci model/pytorch_model.pth --frameworks '["pkg:pypi/torch@2.10.0"]'
  slsa-ml attest-ci gs://ml-models/cifar10/v3/pytorch_model.pth
  slsa-ml attest-ci model/pytorch_model.pth --kms gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1
`;

export const attestCiCommand: Command = {
  name: 'attest-ci',
  summary: 'sign provenance for a model from inside a GitLab CI/CD or Cloud Build job',
  help: HELP,
  run: runAttestCi,
};

interface Written {
  readonly platform: string;
  readonly model: string;
  readonly sha256: string;
  readonly builderId: string;
  readonly bundle: string;
  readonly envelope: string;
  readonly signature: string | null;
}

async function runAttestCi(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const [modelArg, ...extra] = flags.positionals;
  if (modelArg === undefined) throw new UsageError('missing MODEL: a local file or directory, or a gs:// URI');
  if (extra.length > 0) throw new UsageError(`one MODEL at a time; unexpected ${extra.map((e) => JSON.stringify(e)).join(' ')}`);
  if (flags.strings.has('output-dir') && modelArg.startsWith('gs://')) throw new UsageError('--output-dir applies to a local MODEL: a gs:// model\'s provenance goes next to it');
  const platform = choosePlatform(flags, io);
  const reported = reportedFromFlags(flags);
  const storage = storageFromFlags(flags, io);
  const model = await resolveModel(modelArg, storage, io.cwd);
  const outputDir = outputDirOf(flags, model, io);
  const withSignature = !flags.booleans.has('no-model-signature');
  const locations = await refuseExistingSiblings(storage, siblingBase(model, outputDir), { modelSignature: withSignature }).catch(asCliError);
  const chosen = await ciSignerFromFlags(flags, io, platform);
  const digest = await measureModel(model, storage, {});
  const { signer, identityToken } = await chosen.ready();
  const statement = await platform.statement(io.env, {
    subjects: [subjectOf(model, digest)],
    identityToken,
    reported,
    builderVersion: { 'slsa-ml': CLI_VERSION },
    finishedOn: io.now().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }).catch(asInputError);
  const signed = await signStatement(serializeStatement(statement), signer);
  // From the digests the subject came from, so the two files never disagree about the bytes.
  const modelSignature = withSignature ? await signModelSigningPayload(serializeModelSigningStatement(manifestOf(modelNameOf(model.uri), digest)), signer) : undefined;
  if (outputDir !== undefined) await mkdir(outputDir, { recursive: true });
  await storeCreateOnly(storage, locations, signed, modelSignature).catch(asCliError);
  const written: Written = {
    platform: platform.name,
    model: model.uri,
    sha256: digest.sha256,
    builderId: statement.predicate.runDetails.builder.id,
    bundle: locations.bundle,
    envelope: locations.envelope,
    signature: modelSignature === undefined ? null : locations.signature,
  };
  io.stdout.write(flags.booleans.has('json') ? `${JSON.stringify(written, null, 2)}\n` : render(written));
  return EXIT.ok;
}

function choosePlatform(flags: ParsedFlags, io: CliIo): CiPlatform {
  const name = flags.strings.get('platform');
  const names = PLATFORMS.map((p) => p.name).join(', ');
  if (name !== undefined) {
    const platform = platformNamed(name);
    if (!platform) throw new UsageError(`--platform ${name}: unknown; one of ${names}`);
    return platform;
  }
  const detected = detectedPlatforms(io.env);
  if (detected.length === 1 && detected[0]) return detected[0];
  if (detected.length === 0) throw new UsageError(`no CI platform detected (GitLab sets GITLAB_CI=true, Cloud Build BUILD_ID and PROJECT_ID); run in a CI job or give --platform (${names})`);
  throw new UsageError(`several CI platforms detected (${detected.map((p) => p.name).join(', ')}): give --platform`);
}

function reportedFromFlags(flags: ParsedFlags): ReportedTraining {
  try {
    return parseReported({ frameworks: flags.strings.get('frameworks') ?? '', dataset: flags.strings.get('dataset') ?? '', trainingRunner: flags.strings.get('training-runner') ?? '' });
  } catch (err) {
    // Its messages begin with the field's name, which is the flag's.
    throw new UsageError(`--${(err as Error).message}`, { cause: err });
  }
}

function outputDirOf(flags: ParsedFlags, model: ModelTarget, io: CliIo): string | undefined {
  const dir = flags.strings.get('output-dir');
  if (dir === undefined) return undefined;
  if (model.localPath === undefined) throw new UsageError('--output-dir applies to a local MODEL');
  return resolve(io.cwd, dir);
}

// Where the three files go: beside the model, or in --output-dir under the model's name.
function siblingBase(model: ModelTarget, outputDir: string | undefined): string {
  if (outputDir === undefined) return model.uri;
  return pathToFileURL(resolve(outputDir, modelNameOf(model.uri))).href;
}

function subjectOf(model: ModelTarget, digest: ModelDigest): Subject {
  return model.localPath === undefined ? modelSubject(model.uri, digest) : namedModelSubject(modelNameOf(model.uri), digest);
}

function asCliError(err: unknown): never {
  if (!(err instanceof AttestError)) throw err;
  if (err.code === 'PROVENANCE_EXISTS') throw new RefusedError(err.code, err.message, { cause: err });
  throw new InputError(err.code, err.message, { cause: err });
}

// A missing or inconsistent variable or claim is the job's input, not a bug.
function asInputError(err: unknown): never {
  if (hasCode(err)) throw new InputError(err.code, err.message, { cause: err });
  throw err;
}

function render(w: Written): string {
  const signature = w.signature === null ? '' : `  signature ${w.signature}\n`;
  return `model     ${w.model}\n  sha256    ${w.sha256}\n  builder   ${w.builderId}\n  bundle    ${w.bundle}\n  envelope  ${w.envelope}\n${signature}`;
}
