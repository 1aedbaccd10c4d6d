// slsa-ml verify <model>: finds the model's provenance, checks its signature against whom the
// user trusts, recomputes the model's digest, applies the policy flags, checks the model's
// OpenSSF model-signing signature (MODEL.sig) when there is one, and prints the verdict. With
// --vsa it checks the operator's signed verification summary for a policy instead.
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { parseFlags, type FlagSpecs, type ParsedFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { measureModel, resolveModel } from '../model-target.ts';
import { POLICY_HELP } from '../policy-flags.ts';
import { isOutage, STORAGE_HELP, storageUnavailable } from '../storage-flags.ts';
import { TRUST_HELP } from '../trust-flags.ts';
import { measurer } from '../verify/measurer.ts';
import { renderHuman, renderJson, reportOk, type VerifyReport } from '../verify/report.ts';
import { SUMMARY_FLAGS, SUMMARY_HELP, refuseSummaryFlags, summaryVerificationFromFlags, wantsSummary } from '../verify/summary-flags.ts';
import { renderSummaryHuman, renderSummaryJson } from '../verify/summary-report.ts';
import { TARGET_HELP, VERIFY_FLAGS, verificationFromFlags } from '../verify/verify-flags.ts';
import { verifySummaryTarget, type SummaryReport } from '../verify/verify-summary.ts';
import { verifyTarget } from '../verify/verify-target.ts';

const FLAGS: FlagSpecs = {
  ...VERIFY_FLAGS,
  ...SUMMARY_FLAGS,
  json: { type: 'boolean' },
};

const HELP = `Usage: slsa-ml verify MODEL [flags]

Verifies a model against its SLSA provenance: the signature (by a key, a Cloud KMS key or a
keyless identity), the model's digest (recomputed from its bytes), and any policy flags.
Provenance from GitHub Actions must also agree with its signing certificate (workflow, source
repository, ref and commit, run).

MODEL is a local file or directory, a file:// URI, a gs://bucket/object, or a gs://bucket/prefix/
(a directory model such as a TensorFlow SavedModel). Its provenance is read from the sibling
MODEL.sigstore.json (preferred) or MODEL.intoto.jsonl, unless --provenance names it.

The OpenSSF model-signing signature MODEL.sig (what \`model_signing verify\` checks), when present,
is verified too, with the same trust and the same measurement of the model: it must list exactly
the model's files and digests. Both verdicts are shown; the model verifies only if both hold.

With --vsa, verifies instead the signed verification summary the operator wrote beside the model
for the --policy file (a SLSA VSA: this model, this policy, PASSED), with the operator's key or
identity as the trust flags; with --no-download the model itself is not read.

${TRUST_HELP}

${POLICY_HELP}

${SUMMARY_HELP}

Input and output:
${TARGET_HELP}
${STORAGE_HELP}
  --json                        print the verdict as JSON on stdout
  -h, --help                    show this help

Exit codes: 0 verified; 1 verification failed (a check failed, or no provenance or summary was found);
2 usage or input error (bad flag, unreadable key, missing model, unreachable storage).

Examples:
  slsa-ml verify ./pytorch_model.pth --key cosign.pub
  slsa-ml verify gs://ml-models/cifar10/v3/pytorch_model.pth --key cosign.pub \\
      --builder-id https://slsa-ml.dev/operators/prod --deny 'pkg:pypi/torch@<2.6.0' --max-age 30d
  slsa-ml verify gs://ml-models/resnet/v7/saved_model/ \\
      --kms gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1
  slsa-ml verify ./model --certificate-identity trainer@proj.iam.gserviceaccount.com \\
      --certificate-oidc-issuer https://accounts.google.com --trusted-root trusted_root.json
  slsa-ml verify ./model.safetensors \\
      --certificate-identity https://github.com/slsa-ml/slsa-ml/.github/workflows/provenance.yml@refs/tags/v1 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com --trusted-root trusted_root.json \\
      --source-repo github.com/acme/models --source-ref refs/heads/main
  slsa-ml verify gs://ml-models/cifar10/v3/pytorch_model.pth --key platform.pub \\
      --policy serving-policy.yaml --vsa --no-download --max-age 30d
`;

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify a model against its signed provenance and a policy',
  help: HELP,
  run: runVerify,
};

async function runVerify(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const [modelArg, ...extra] = flags.positionals;
  if (modelArg === undefined) throw new UsageError('missing MODEL: give a local path, a file:// URI or a gs:// URI');
  if (extra.length > 0) throw new UsageError(`one MODEL at a time; unexpected ${extra.map((e) => JSON.stringify(e)).join(' ')}`);
  if (wantsSummary(flags)) return runSummary(modelArg, flags, io);
  refuseSummaryFlags(flags);
  const { policies, verifier, storage, options } = await verificationFromFlags(flags, io);
  const model = await resolveModel(modelArg, storage, io.cwd);
  const measurement = measurer(model.uri, io, (opts) => measureModel(model, storage, opts));
  let report: VerifyReport;
  try {
    report = await verifyTarget({ storage, model, trust: verifier, policies, measure: measurement.measure, options, cwd: io.cwd });
  } finally {
    measurement.finish();
  }
  // A model storage could not serve has not failed its checks: there is no verdict to print.
  const failure = measurement.failure();
  if (isOutage(failure)) throw storageUnavailable(model.uri, failure);
  io.stdout.write(flags.booleans.has('json') ? renderJson(report) : renderHuman(report));
  return reportOk(report) ? EXIT.ok : EXIT.failed;
}

async function runSummary(modelArg: string, flags: ParsedFlags, io: CliIo): Promise<number> {
  const { policy, verifier, storage, options } = await summaryVerificationFromFlags(flags, io);
  const model = await resolveModel(modelArg, storage, io.cwd);
  const measurement = measurer(model.uri, io, (opts) => measureModel(model, storage, opts));
  let report: SummaryReport;
  try {
    report = await verifySummaryTarget({ storage, model, trust: verifier, policy, options, measure: measurement.measure, cwd: io.cwd, now: () => io.now() });
  } finally {
    measurement.finish();
  }
  const failure = measurement.failure();
  if (isOutage(failure)) throw storageUnavailable(model.uri, failure);
  io.stdout.write(flags.booleans.has('json') ? renderSummaryJson(report) : renderSummaryHuman(report));
  return report.result.ok ? EXIT.ok : EXIT.failed;
}
