// `slsa-ml gate`: the serving gate's webhook process. Everything it trusts comes from its own
// flags (mounted from the platform's namespace): the TLS pair the API server calls it with, the
// policy, and the public key of the operator that signs verification summaries.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration, parsePolicy } from '../../src/policy/index.ts';
import { checkProject } from '../../src/cli/storage-flags.ts';
import { createStorage, type Storage } from '../../src/storage/index.ts';
import { createSignatureVerifier } from '../../src/verify/index.ts';
import { createLogger } from '../observability/index.ts';
import { startGateServer, type GateServer } from './server.ts';
import { summaryCheck } from './summary-check.ts';

export const GATE_HELP = `Usage: slsa-ml gate --tls-cert FILE --tls-key FILE --policy FILE --key FILE [flags]

Serves the slsa-ml admission webhook for KServe InferenceServices (POST /validate, GET /healthz):
an InferenceService is admitted only when every model it names is a gs:// model with a PASSED
verification summary for the policy, signed by the operator's key, and nothing in it goes around
the storage initializer. See docs/serving.md.

  --tls-cert FILE        the serving certificate (PEM) the API server is given the CA of
  --tls-key FILE         its private key
  --policy FILE          the policy whose summaries are required (the operator's
                         verificationSummaries.policyPaths lists the same file)
  --key FILE             the public key summaries are signed with (the operator's signing key);
                         a value beginning with -----BEGIN is the PEM itself
  --verifier-id URI      require this verifier id (the operator's verificationSummaries.verifierId)
  --max-age DURATION     refuse summaries older than this (e.g. 30d)
  --port N               default 8443
  --host ADDRESS         default 0.0.0.0
  --deadline-seconds N   a review's deadline (default 8; keep it under the webhook's timeoutSeconds)
  --gcs-endpoint URL     Cloud Storage API endpoint (tests, private endpoints)
  --gcs-user-project ID  project billed for Cloud Storage requests, required by Requester Pays
                         buckets (default $SLSA_ML_GCS_USER_PROJECT)`;

const OPTIONS = {
  'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, policy: { type: 'string' }, key: { type: 'string' },
  'verifier-id': { type: 'string' }, 'max-age': { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
  'deadline-seconds': { type: 'string' }, 'gcs-endpoint': { type: 'string' }, 'gcs-user-project': { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

export class GateUsageError extends Error {
  override readonly name = 'GateUsageError';
}

export async function runGate(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<GateServer | undefined> {
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true }));
  } catch (err) {
    throw new GateUsageError((err as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(`${GATE_HELP}\n`);
    return undefined;
  }
  const need = (flag: keyof typeof OPTIONS): string => {
    const value = values[flag];
    if (typeof value !== 'string' || value === '') throw new GateUsageError(`--${flag} is required (slsa-ml gate --help)`);
    return value;
  };
  const keyValue = need('key');
  const publicKeyPem = keyValue.trimStart().startsWith('-----BEGIN') ? keyValue : readFileSync(keyValue, 'utf8');
  const policyPath = need('policy');
  const policy = parsePolicy(readFileSync(policyPath, 'utf8'), policyPath);
  const optional = (flag: keyof typeof OPTIONS): string | undefined => (typeof values[flag] === 'string' ? values[flag] : undefined);
  const maxAgeText = optional('max-age');
  const maxAge = maxAgeText === undefined ? undefined : parseDuration(maxAgeText);
  const endpoint = optional('gcs-endpoint');
  const verifierId = optional('verifier-id');
  const storage = gateStorage(endpoint, billingProject(optional('gcs-user-project'), env));
  const logger = createLogger({ level: 'info' });
  const check = summaryCheck({
    storage,
    trust: await createSignatureVerifier({ kind: 'key', publicKeyPem }),
    policy,
    ...(verifierId !== undefined ? { verifierId } : {}),
    ...(maxAge !== undefined ? { maxAgeMs: maxAge } : {}),
  });
  const server = await startGateServer({
    port: wholeNumber('--port', optional('port') ?? '8443'),
    host: optional('host') ?? '0.0.0.0',
    tls: { cert: readFileSync(need('tls-cert')), key: readFileSync(need('tls-key')) },
    check,
    deadlineMs: wholeNumber('--deadline-seconds', optional('deadline-seconds') ?? '8') * 1000,
    log: (fields, message) => logger.info(fields, message),
  });
  logger.info({ port: server.port, policy: policy.name ?? policyPath, policyDigest: policy.digest }, 'slsa-ml serving gate listening');
  return server;
}

/** No retry policy: the webhook must answer within its timeout, and refuses what it cannot decide. */
function gateStorage(endpoint: string | undefined, userProject: string | undefined): Storage {
  return createStorage({
    gcs: { ...(endpoint ? { apiEndpoint: endpoint } : {}), ...(userProject === undefined ? {} : { userProject }) },
    deadlines: { requestMs: 5000, readStallMs: 5000 },
  });
}

/** --gcs-user-project, else $SLSA_ML_GCS_USER_PROJECT (as the CLI): sent as userProject on every request. */
function billingProject(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const value = flag ?? (env.SLSA_ML_GCS_USER_PROJECT || undefined);
  if (value === undefined) return undefined;
  try {
    checkProject(flag === undefined ? '$SLSA_ML_GCS_USER_PROJECT' : '--gcs-user-project', value);
  } catch (err) {
    throw new GateUsageError((err as Error).message);
  }
  return value;
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new GateUsageError(`${flag} ${JSON.stringify(value)}: expected a whole number`);
  return Number(value);
}
