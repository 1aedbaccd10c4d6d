// slsa-ml verify <model>: finds the model's provenance, checks its signature against whom the
// user trusts, recomputes the model's digest, applies the policy flags, checks the model's
// OpenSSF model-signing signature (MODEL.sig) when there is one, and prints the verdict.
import { verifyProvenance, type SignatureVerifier, type StatementCheck, type VerificationResult } from '../../verify/index.ts';
import { modelFilesCheck, policyChecks } from '../../policy/index.ts';
import { subjectNameCheck } from '../verify/subject-name.ts';
import type { ModelDigest } from '../../digest/index.ts';
import type { Storage } from '../../storage/index.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { parseFlags, type FlagSpecs } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { measureModel, resolveModel, type ModelTarget } from '../model-target.ts';
import { POLICY_FLAGS, POLICY_HELP, policyFromFlags } from '../policy-flags.ts';
import { progressBar } from '../progress.ts';
import { findProvenance } from '../provenance-source.ts';
import { checkModelSignature, type ModelSignatureReport } from '../verify/model-signature.ts';
import { STORAGE_FLAGS, STORAGE_HELP, storageFromFlags } from '../storage-flags.ts';
import { TRUST_FLAGS, TRUST_HELP, verifierFromFlags } from '../trust-flags.ts';
import { renderHuman, renderJson, reportOk, type VerifyReport } from '../verify/report.ts';

const FLAGS: FlagSpecs = {
  ...TRUST_FLAGS,
  ...POLICY_FLAGS,
  ...STORAGE_FLAGS,
  provenance: { type: 'string' },
  'model-signature': { type: 'string' },
  'require-model-signature': { type: 'boolean' },
  json: { type: 'boolean' },
  strict: { type: 'boolean' },
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

${TRUST_HELP}

${POLICY_HELP}

Input and output:
  --provenance PATH|URI         the provenance file (a Sigstore bundle or a DSSE envelope)
  --model-signature PATH|URI    the model-signing signature (default MODEL.sig, checked if present)
  --require-model-signature     fail unless a model-signing signature is present and verifies
  --strict                      fail when the subject with the model's bytes names another path
                                (a genuine provenance copied next to a copy of the model); a warning
                                otherwise
${STORAGE_HELP}
  --json                        print the verdict as JSON on stdout
  -h, --help                    show this help

Exit codes: 0 verified; 1 verification failed (a check failed or no provenance was found);
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
  const policies = policyChecks(policyFromFlags(flags, io));
  const verifier = await verifierFromFlags(flags, io);
  const storage = storageFromFlags(flags, io);
  const model = await resolveModel(modelArg, storage, io.cwd);
  const source = await findProvenance(storage, model.uri, flags.strings.get('provenance'), io.cwd);
  const measurement = measurer(model, storage, io);
  let report: VerifyReport;
  try {
    const modelSignature = (): Promise<ModelSignatureReport> => checkModelSignature({
      storage, modelUri: model.uri, explicit: flags.strings.get('model-signature'), cwd: io.cwd,
      required: flags.booleans.has('require-model-signature'), trust: verifier, measure: measurement.measure,
    });
    if (source.found) {
      const result = await verifyModel({ model, policies, provenance: source.content, trust: verifier, measure: measurement.measure, strict: flags.booleans.has('strict') });
      report = { model: model.uri, provenance: source.uri, result, modelSignature: await modelSignature() };
    } else {
      const reason = `no provenance next to the model: looked for ${source.searched.join(' and ')}`;
      report = { model: model.uri, result: { ok: false, checks: [{ name: 'provenance', ok: false, code: 'PROVENANCE_NOT_FOUND', reason }] }, modelSignature: await modelSignature() };
    }
  } finally {
    measurement.finish();
  }
  io.stdout.write(flags.booleans.has('json') ? renderJson(report) : renderHuman(report));
  return reportOk(report) ? EXIT.ok : EXIT.failed;
}

interface VerifyModelInput {
  readonly model: ModelTarget;
  readonly policies: StatementCheck[];
  readonly provenance: Buffer;
  readonly trust: SignatureVerifier;
  readonly measure: () => Promise<ModelDigest>;
  /** A subject naming another path fails (SUBJECT_NAME_MISMATCH) instead of warning. */
  readonly strict: boolean;
}

async function verifyModel(input: VerifyModelInput): Promise<VerificationResult> {
  return verifyProvenance({
    provenance: input.provenance,
    trust: input.trust,
    artifact: input.measure,
    policies: [subjectNameCheck(input.model, input.measure, input.strict), ...(input.model.directory ? [modelFilesCheck(input.measure)] : []), ...input.policies],
  });
}

/**
 * The model measured once, on first need (after a signature verified), for the provenance's
 * subject and files checks and the model signature's files check alike.
 */
function measurer(model: ModelTarget, storage: Storage, io: CliIo): { measure: () => Promise<ModelDigest>; finish: () => void } {
  const label = model.uri.replace(/\/$/, '').split('/').pop() ?? model.uri;
  const bar = progressBar(io.stderr, label);
  let measuring: Promise<ModelDigest> | undefined;
  const measure = (): Promise<ModelDigest> => (measuring ??= measureModel(model, storage, bar.onProgress ? { onProgress: bar.onProgress } : {}).finally(() => bar.finish()));
  return { measure, finish: () => bar.finish() };
}
