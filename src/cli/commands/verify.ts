// slsa-ml verify <model>: finds the model's provenance, checks its signature against whom the
// user trusts, recomputes the model's digest, applies the policy flags, and prints the verdict.
import { verifyProvenance, type SignatureVerifier, type StatementCheck, type VerificationResult } from '../../verify/index.ts';
import { modelFilesCheck, policyChecks } from '../../policy/index.ts';
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
import { STORAGE_FLAGS, STORAGE_HELP, storageFromFlags } from '../storage-flags.ts';
import { TRUST_FLAGS, TRUST_HELP, verifierFromFlags } from '../trust-flags.ts';
import { renderHuman, renderJson, type VerifyReport } from '../verify/report.ts';

const FLAGS: FlagSpecs = {
  ...TRUST_FLAGS,
  ...POLICY_FLAGS,
  ...STORAGE_FLAGS,
  provenance: { type: 'string' },
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

${TRUST_HELP}

${POLICY_HELP}

Input and output:
  --provenance PATH|URI         the provenance file (a Sigstore bundle or a DSSE envelope)
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
  let report: VerifyReport;
  if (source.found) {
    const result = await verifyModel({ model, storage, io, policies, provenance: source.content, trust: verifier });
    report = { model: model.uri, provenance: source.uri, result };
  } else {
    const reason = `no provenance next to the model: looked for ${source.searched.join(' and ')}`;
    report = { model: model.uri, result: { ok: false, checks: [{ name: 'provenance', ok: false, code: 'PROVENANCE_NOT_FOUND', reason }] } };
  }
  io.stdout.write(flags.booleans.has('json') ? renderJson(report) : renderHuman(report));
  return report.result.ok ? EXIT.ok : EXIT.failed;
}

interface VerifyModelInput {
  readonly model: ModelTarget;
  readonly storage: Storage;
  readonly io: CliIo;
  readonly policies: StatementCheck[];
  readonly provenance: Buffer;
  readonly trust: SignatureVerifier;
}

async function verifyModel(input: VerifyModelInput): Promise<VerificationResult> {
  const label = input.model.uri.replace(/\/$/, '').split('/').pop() ?? input.model.uri;
  const bar = progressBar(input.io.stderr, label);
  // Measured once, after the signature verified, for both the subject and the files check.
  let measuring: Promise<ModelDigest> | undefined;
  const measure = (): Promise<ModelDigest> =>
    (measuring ??= measureModel(input.model, input.storage, bar.onProgress ? { onProgress: bar.onProgress } : {}).finally(() => bar.finish()));
  try {
    return await verifyProvenance({
      provenance: input.provenance,
      trust: input.trust,
      artifact: measure,
      policies: [...(input.model.directory ? [modelFilesCheck(measure)] : []), ...input.policies],
    });
  } finally {
    bar.finish();
  }
}
