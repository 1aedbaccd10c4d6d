// slsa-ml pull MODEL DEST: the serving gate, usable as KServe's storage initializer. Download =
// measure = verify in one pass: each object is hashed as its bytes are written into a staging
// directory inside DEST (nothing is read twice, so nothing can be swapped between the check and
// the use), the provenance and model signature are verified against that digest by verify's own
// code, and only a verified model is moved into DEST. Any failure leaves DEST as it was and ends
// with one line — on stderr and in the container's termination message.
import { resolve } from 'node:path';

import { digestStorage, type ModelDigest } from '../../digest/index.ts';
import type { Command } from '../command.ts';
import { errorReport } from '../error-report.ts';
import { EXIT, UsageError } from '../errors.ts';
import { parseFlags, wholeNumber, type FlagSpecs } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { resolveModel, type ModelTarget } from '../model-target.ts';
import { POLICY_HELP } from '../policy-flags.ts';
import { ENV_PREFIX, withEnvFlags } from '../pull/env-flags.ts';
import { listenForInterrupt, type Interrupt } from '../pull/interrupt.ts';
import { downloadFailure, failureLine, successLine, verdictFailure, warningLines, type Failure } from '../pull/outcome.ts';
import { Staging } from '../pull/staging.ts';
import { DEFAULT_TERMINATION_PATH, TERMINATION_ENV, TERMINATION_FLAG, terminationLog, writeTerminationMessage, type TerminationLog } from '../pull/termination.ts';
import { STORAGE_HELP } from '../storage-flags.ts';
import { TRUST_FLAGS, TRUST_HELP } from '../trust-flags.ts';
import { measurer } from '../verify/measurer.ts';
import { reportOk, type VerifyReport } from '../verify/report.ts';
import { TARGET_HELP, VERIFY_FLAGS, verificationFromFlags, type Verification } from '../verify/verify-flags.ts';
import { verifyTarget } from '../verify/verify-target.ts';

const FLAGS: FlagSpecs = {
  ...VERIFY_FLAGS,
  concurrency: { type: 'string' },
  [TERMINATION_FLAG]: { type: 'string' },
};

const ENV_RULES = { exclude: ['gcs-endpoint', 'gcs-user-project', TERMINATION_FLAG], groups: [Object.keys(TRUST_FLAGS)] };

const DEFAULT_CONCURRENCY = '8';

const HELP = `Usage: slsa-ml pull MODEL DEST [flags]

Downloads a model into DEST and verifies it on the way, with the same checks, trust and policy
flags as slsa-ml verify: each object is hashed as it is written into a staging directory inside
DEST, the provenance (MODEL.sigstore.json, else MODEL.intoto.jsonl) and the model signature
MODEL.sig (when present) are verified against that digest, and only then are the files moved
into DEST. On any failure nothing is left in DEST, and one line names the check and the reason,
on stderr and in the container's termination message.

MODEL is a gs://bucket/object, a gs://bucket/prefix/ (a directory model such as a SavedModel), a
file:// URI or a local path. An object lands as DEST/NAME; a directory's files land under DEST.
An entry of DEST with the name of one of them is replaced; the rest of DEST is left alone.

As a KServe storage initializer (ClusterStorageContainer), KServe runs it with MODEL DEST only:
give the other flags as environment variables.

${TRUST_HELP}

${POLICY_HELP}

Input and output:
${TARGET_HELP}
${STORAGE_HELP}
  --concurrency N               objects downloaded at once (default ${DEFAULT_CONCURRENCY})
  --${TERMINATION_FLAG} FILE
                                where the failure line is written too (default
                                $${TERMINATION_ENV}, else ${DEFAULT_TERMINATION_PATH} if it exists)
  -h, --help                    show this help

Environment: ${ENV_PREFIX}<FLAG> sets --<flag> (upper case, "-" as "_"): ${ENV_PREFIX}KEY,
${ENV_PREFIX}BUILDER_ID, ${ENV_PREFIX}MAX_AGE, ...; ${ENV_PREFIX}DENY holds one rule per line;
a boolean is true or false. A flag on the command line wins over its variable, and any trust flag
over every trust variable. An unknown ${ENV_PREFIX} variable is a usage error.

Exit codes: 0 verified and written; 1 refused (a check failed, no provenance, the download
failed, or SIGTERM/SIGINT); 2 usage or input error (bad flag, unreadable key, missing model,
unusable DEST).

Examples:
  slsa-ml pull gs://ml-models/cifar10/v3/pytorch_model.pth /mnt/models --key cosign.pub \\
      --builder-id https://slsa-ml.dev/operators/prod --deny 'pkg:pypi/torch@<2.6.0'
  ${ENV_PREFIX}KEY=/etc/slsa-ml/cosign.pub ${ENV_PREFIX}BUILDER_ID=https://slsa-ml.dev/operators/prod \\
      slsa-ml pull gs://ml-models/resnet/v7/saved_model/ /mnt/models
`;

export const pullCommand: Command = {
  name: 'pull',
  summary: 'download a model, verify it while writing it, and keep it only if it verifies',
  help: HELP,
  run: runPull,
};

interface PullRun {
  readonly io: CliIo;
  readonly log: TerminationLog;
  readonly interrupt: Interrupt;
}

// Every failure also becomes the termination message: thrown errors (usage, input) as main()
// will print them, refusals as their one line.
async function runPull(args: readonly string[], io: CliIo): Promise<number> {
  const log = terminationLog(args, io);
  const interrupt = listenForInterrupt(io.signals ?? process);
  try {
    return await pull(args, { io, log, interrupt });
  } catch (err) {
    await terminate({ io, log, interrupt }, errorReport('pull', err).text.split('\n')[0] ?? '');
    throw err;
  } finally {
    interrupt.dispose();
  }
}

async function pull(args: readonly string[], run: PullRun): Promise<number> {
  const { io } = run;
  const flags = withEnvFlags(parseFlags(args, FLAGS), FLAGS, io.env, ENV_RULES);
  const [modelArg, destArg, ...extra] = flags.positionals;
  if (modelArg === undefined || destArg === undefined) throw new UsageError('missing MODEL or DEST: slsa-ml pull MODEL DEST (e.g. gs://bucket/models/m/model.pth /mnt/models)');
  if (extra.length > 0) throw new UsageError(`one MODEL and one DEST; unexpected ${extra.map((e) => JSON.stringify(e)).join(' ')}`);
  const concurrency = wholeNumber('--concurrency', flags.strings.get('concurrency') ?? DEFAULT_CONCURRENCY);
  const verification = await verificationFromFlags(flags, io);
  const model = await resolveModel(modelArg, verification.storage, io.cwd);
  const dest = destination(destArg, model, io.cwd);
  const staging = await Staging.open(dest);
  try {
    return await verifyAndCommit({ run, verification, model, staging, concurrency });
  } finally {
    await staging.discard();
  }
}

interface Attempt {
  readonly run: PullRun;
  readonly verification: Verification;
  readonly model: ModelTarget;
  readonly staging: Staging;
  readonly concurrency: number;
}

async function verifyAndCommit(attempt: Attempt): Promise<number> {
  const { run, verification, model, staging } = attempt;
  const { storage, verifier, policies, options } = verification;
  let downloadError: { error: unknown } | undefined;
  const measurement = measurer(model.uri, run.io, (opts) =>
    digestStorage(storage, model.uri, { ...opts, concurrency: attempt.concurrency, copyTo: staging.sink, signal: run.interrupt.signal }).catch((error: unknown) => {
      downloadError = { error };
      throw error;
    }));
  let report: VerifyReport;
  try {
    report = await verifyTarget({ storage, model, trust: verifier, policies, measure: measurement.measure, options, cwd: run.io.cwd });
  } finally {
    measurement.finish();
  }
  const failure = refusal(run, report, downloadError);
  if (failure) return refuse(run, failureLine(model.uri, staging.dest, failure));
  // Memoised: the digest of the bytes already written, not a second download.
  const digest: ModelDigest = await measurement.measure();
  await staging.commit();
  for (const line of warningLines(report)) run.io.stderr.write(`${line}\n`);
  run.io.stdout.write(`${successLine(report, digest, staging.dest)}\n`);
  return EXIT.ok;
}

function refusal(run: PullRun, report: VerifyReport, downloadError: { error: unknown } | undefined): Failure | undefined {
  const signal = run.interrupt.received();
  if (signal !== undefined) return { check: 'interrupted', reason: `received ${signal}`, code: 'INTERRUPTED' };
  if (downloadError) return downloadFailure(downloadError.error);
  if (!reportOk(report)) return verdictFailure(report) ?? { check: 'verification', reason: 'not verified' };
  return undefined;
}

async function refuse(run: PullRun, line: string): Promise<number> {
  run.io.stderr.write(`${line}\n`);
  await terminate(run, line);
  return EXIT.failed;
}

async function terminate(run: PullRun, line: string): Promise<void> {
  const problem = await writeTerminationMessage(run.log, line);
  if (problem !== undefined) run.io.stderr.write(`slsa-ml pull: ${problem}\n`);
}

/** DEST is a local directory; inside a local directory model it would be read as part of it. */
function destination(arg: string, model: ModelTarget, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) throw new UsageError(`DEST ${arg}: must be a local directory, not a URI`);
  const dest = resolve(cwd, arg);
  const root = model.directory && model.localPath !== undefined ? resolve(model.localPath) : undefined;
  if (root !== undefined && (dest === root || dest.startsWith(`${root}/`))) throw new UsageError(`DEST ${arg}: inside the model ${model.display}`);
  return dest;
}
