// One run of the action: read and check every input, refuse anything that would overwrite,
// then build the statement from the OIDC token's claims, sign it keyless (Fulcio + Rekor), sign
// the model's OpenSSF model-signing manifest from the same digests, and publish both. Every failure becomes one `::error::` line naming its cause, and exit code 1.
import { isAbsolute, join, resolve } from 'node:path';

import { storeCreateOnly } from '../attest/index.ts';
import type { ProvenanceLocations } from '../layout/index.ts';
import { manifestOf, serializeModelSigningStatement, signModelSigningPayload } from '../model-signing/index.ts';
import { buildGithubStatement, modelSubject, namedModelSubject, serializeStatement, type JsonObject } from '../provenance/index.ts';
import { createSigner, signStatement } from '../signing/index.ts';
import { createStorage, type Storage } from '../storage/index.ts';
import { decodeClaims, githubRun } from './claims.ts';
import { ActionError } from './errors.ts';
import { dispatchInputs } from './event.ts';
import { readInputs, type ActionInputs, type OutputName } from './inputs.ts';
import { requestIdToken } from './oidc.ts';
import { checkStoredModel, refuseExistingFiles, writeFiles } from './publish.ts';
import { parseReported } from './reported.ts';
import { setOutputs, type ActionEnv, type Log } from './runner.ts';
import { parseSubjects } from './subjects.ts';
import { ACTION_VERSION } from './version.ts';

/** Fulcio issues certificates for tokens with this audience. */
const SIGSTORE_AUDIENCE = 'sigstore';

export interface ActionContext {
  readonly env: ActionEnv;
  readonly log: Log;
  readonly now: () => Date;
}

export async function runAction(ctx: ActionContext): Promise<void> {
  const { env, log } = ctx;
  const inputs = readInputs(env);
  checkServiceUrl('fulcio-url', inputs['fulcio-url']);
  checkServiceUrl('rekor-url', inputs['rekor-url']);
  const model = parseSubjects(inputs.subjects);
  const reported = parseReported({ frameworks: inputs.frameworks, dataset: inputs.dataset, trainingRunner: inputs['training-runner'] });
  const outputDir = outputFolder(inputs, env);
  const files = await refuseExistingFiles(outputDir, model);
  const gcs = inputs['gcs-uri'] === '' ? undefined : { uri: inputs['gcs-uri'], storage: storage(env) };
  const stored = gcs ? await checkStoredModel(gcs.storage, gcs.uri, model) : undefined;

  const token = await requestIdToken(env, SIGSTORE_AUDIENCE);
  log.mask(token);
  const run = githubRun(decodeClaims(token), env);
  const workflowInputs = await dispatchInputs(env, run.eventName);
  const statement = buildGithubStatement({
    run,
    subjects: [gcs ? modelSubject(gcs.uri, model.measured) : namedModelSubject(model.name, model.measured)],
    reported,
    ...(workflowInputs ? { workflowInputs: workflowInputs as JsonObject } : {}),
    builderVersion: { 'slsa-ml': ACTION_VERSION },
    finishedOn: ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
  const signer = await createSigner({ kind: 'sigstore', fulcioURL: inputs['fulcio-url'], rekorURL: inputs['rekor-url'], identityToken: () => Promise.resolve(token) });
  const signed = await signStatement(serializeStatement(statement), signer);
  // The digests the subject came from: the two files never disagree about the model's bytes.
  const modelSignature = await signModelSigningPayload(serializeModelSigningStatement(manifestOf(model.name, model.measured)), signer);

  await writeFiles(outputDir, files, signed, modelSignature);
  if (gcs && stored) await storeCreateOnly(gcs.storage, stored, signed, modelSignature);
  const builderId = statement.predicate.runDetails.builder.id;
  log.info(`signed provenance for ${model.name} (sha256:${model.measured.sha256}) as ${builderId}`);
  await setOutputs(env, outputs({ model: model.name, sha256: model.measured.sha256, builderId, files, stored }));
}

// The OIDC token travels to Fulcio: only over TLS, or to this machine itself (tests, proxies).
function checkServiceUrl(name: string, value: string): void {
  const url = URL.parse(value);
  const loopback = url?.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (!url || (url.protocol !== 'https:' && !loopback)) throw new ActionError('BAD_INPUT', `${name}: ${JSON.stringify(value)} must be an https:// URL`);
}

function outputFolder(inputs: ActionInputs, env: ActionEnv): string {
  const base = env.GITHUB_WORKSPACE || process.cwd();
  if (inputs['output-dir'] !== '') return isAbsolute(inputs['output-dir']) ? inputs['output-dir'] : resolve(base, inputs['output-dir']);
  return join(env.RUNNER_TEMP || base, 'slsa-ml-provenance');
}

function storage(env: ActionEnv): Storage {
  // An emulator endpoint, as for the CLI; Application Default Credentials otherwise. A billing
  // project for Requester Pays buckets, and retries: a job has no backoff of its own, and a
  // create-only write is safe to send again (its own first copy is recognised by its MD5).
  const apiEndpoint = env.SLSA_ML_GCS_ENDPOINT || undefined;
  const userProject = env.SLSA_ML_GCS_USER_PROJECT || undefined;
  return createStorage({
    gcs: { ...(apiEndpoint ? { apiEndpoint } : {}), ...(userProject ? { userProject } : {}) },
    retry: { budgetMs: 30_000 },
  });
}

interface Published {
  readonly model: string;
  readonly sha256: string;
  readonly builderId: string;
  readonly files: { readonly bundle: string; readonly envelope: string; readonly signature: string };
  readonly stored: ProvenanceLocations | undefined;
}

function outputs(p: Published): Record<OutputName, string> {
  return {
    model: p.model,
    'subject-digest': `sha256:${p.sha256}`,
    'builder-id': p.builderId,
    'bundle-path': p.files.bundle,
    'envelope-path': p.files.envelope,
    'signature-path': p.files.signature,
    'gcs-bundle-uri': p.stored?.bundle ?? '',
    'gcs-envelope-uri': p.stored?.envelope ?? '',
    'gcs-signature-uri': p.stored?.signature ?? '',
  };
}
