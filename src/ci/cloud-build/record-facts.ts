// The build as Cloud Build recorded it, in place of what the step's environment says. Where both
// state a fact they must agree: a difference means a step's `env:` (or something else) rewrote the
// variable, and the provenance would otherwise describe a build that did not happen.
import type { CloudBuildRun } from '../../provenance/cloud-build-statement.ts';
import type { CiEnv } from '../platform.ts';
import type { BuildRecord } from './build-record.ts';
import { readCloudBuildEnv } from './env.ts';
import { CloudBuildError } from './errors.ts';

/** Variables whose value the record also holds; user substitutions (`_NAME`) are compared too. */
const COMPARED = ['COMMIT_SHA', 'TRIGGER_NAME', 'TRIGGER_BUILD_CONFIG_PATH', 'REPO_FULL_NAME', 'REF_NAME', 'BRANCH_NAME', 'TAG_NAME', 'SERVICE_ACCOUNT_EMAIL'];

/** `api`: the endpoint the record came from, recorded with it (it need not be Google's). */
export function runFromRecord(record: BuildRecord, env: CiEnv, fromEnv: CloudBuildRun, api: string): CloudBuildRun {
  const recorded = recordAsVariables(record, fromEnv);
  compare(env, recorded);
  let run: CloudBuildRun;
  try {
    run = readCloudBuildEnv(recorded);
  } catch (err) {
    throw new CloudBuildError('CLOUD_BUILD_RECORD_INVALID', `Cloud Build's record of build ${record.id}: ${(err as Error).message.replace(/^Cloud Build variable /, 'substitution ')}`, { cause: err });
  }
  const trigger = run.trigger ? { ...run.trigger, ...(record.triggerId ? { id: record.triggerId } : {}) } : undefined;
  const source = run.source ? { ...run.source, ...(record.resolvedSource?.repository ? { uri: record.resolvedSource.repository } : {}) } : undefined;
  const extra = { createTime: record.createTime, startTime: record.startTime, workerPool: record.workerPool, machineType: record.machineType };
  return {
    ...run,
    ...(trigger ? { trigger } : {}),
    ...(source ? { source } : {}),
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
    // PROJECT_NUMBER is not in the record; LOCATION and the ids are the name the record answered for.
    recordedFrom: { environment: ['PROJECT_NUMBER'], cloudBuildApi: fieldsUsed(record, run), cloudBuildApiEndpoint: api },
  };
}

// The record in the environment's vocabulary, so one reader (env.ts) validates both.
function recordAsVariables(record: BuildRecord, fromEnv: CloudBuildRun): Record<string, string> {
  const vars: Record<string, string> = { ...record.substitutions };
  vars.BUILD_ID = record.id;
  vars.PROJECT_ID = record.projectId;
  vars.PROJECT_NUMBER = fromEnv.projectNumber;
  vars.LOCATION = fromEnv.location;
  const commit = record.resolvedSource?.commit;
  if (commit !== undefined) vars.COMMIT_SHA = commit;
  if (record.serviceAccount !== undefined) vars.SERVICE_ACCOUNT_EMAIL = record.serviceAccount;
  return vars;
}

function compare(env: CiEnv, recorded: Readonly<Record<string, string>>): void {
  const names = [...COMPARED, ...Object.keys(recorded).filter((n) => n.startsWith('_'))];
  for (const name of names) {
    const stated = env[name];
    const actual = recorded[name];
    if (stated && actual && stated !== actual) {
      // Named, not shown: a substitution's value may be a secret, and CI logs are widely read.
      throw new CloudBuildError('CLOUD_BUILD_RECORD_MISMATCH', `Cloud Build variable ${name} differs from Cloud Build's record of the build: a step's env (or something else) rewrote it`);
    }
  }
}

function fieldsUsed(record: BuildRecord, run: CloudBuildRun): string[] {
  const fields = new Set(['name', 'id', 'projectId', 'status']);
  for (const variable of run.recordedFrom.environment) {
    if (variable === 'BUILD_ID' || variable === 'PROJECT_ID' || variable === 'PROJECT_NUMBER' || variable === 'LOCATION') continue;
    if (variable === 'SERVICE_ACCOUNT_EMAIL') fields.add('serviceAccount');
    else if (variable === 'COMMIT_SHA' && record.resolvedSource) fields.add('sourceProvenance');
    else fields.add(`substitutions.${variable}`);
  }
  const optional: Array<[string, unknown]> = [
    ['buildTriggerId', record.triggerId], ['createTime', record.createTime], ['startTime', record.startTime],
    ['options.pool.name', record.workerPool], ['options.machineType', record.machineType],
  ];
  for (const [field, value] of optional) if (value !== undefined) fields.add(field);
  return [...fields].sort();
}
