// The build as a Cloud Build step sees it in its environment, converted once into a CloudBuildRun.
// Cloud Build itself sets BUILD_ID and PROJECT_ID in every step; the other facts are substitutions,
// which reach a step's environment only with `options: automapSubstitutions: true` (or an `env:`
// entry). Either way the build config's author could set them too: they are recorded as the
// environment's word (recordedFrom.environment), never used to decide trust.
import type { CiEnv } from '../platform.ts';
import type { CloudBuildRun } from '../../provenance/cloud-build-statement.ts';
import { CloudBuildError } from './errors.ts';

const AUTOMAP = 'add "options: automapSubstitutions: true" to cloudbuild.yaml so the step sees the build\'s substitutions';

/** name → [pattern, what it must be]. */
const SHAPES: Readonly<Record<string, readonly [RegExp, string]>> = {
  // Build ids are UUIDs; anything with a slash would change the invocation URI's meaning.
  BUILD_ID: [/^[A-Za-z0-9-]{1,128}$/, 'a build id (letters, digits, hyphens)'],
  PROJECT_ID: [/^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id'],
  PROJECT_NUMBER: [/^[0-9]{1,20}$/, 'a project number (digits)'],
  LOCATION: [/^[a-z][a-z0-9-]{0,62}$/, 'a region such as us-central1, or global'],
  COMMIT_SHA: [/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'a full git commit id (40 or 64 lowercase hex)'],
  SERVICE_ACCOUNT_EMAIL: [/^[^@\s]+@[^@\s]+$/, 'a service account email'],
};

/** Substitutions a user defines: an underscore, then upper-case letters, digits and underscores. */
const USER_SUBSTITUTION = /^_[A-Z0-9][A-Z0-9_]*$/;

export function readCloudBuildEnv(env: CiEnv): CloudBuildRun {
  const used: string[] = [];
  const get = (name: string): string | undefined => {
    // With automapSubstitutions, a substitution that does not apply (e.g. TRIGGER_NAME in a
    // manual build) arrives as an empty string.
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const shape = SHAPES[name];
    if (shape && !shape[0].test(value)) throw new CloudBuildError('CLOUD_BUILD_VARIABLE_INVALID', `Cloud Build variable ${name}=${JSON.stringify(value)} is not ${shape[1]}`);
    used.push(name);
    return value;
  };
  const required = (name: string, hint: string): string => {
    const value = get(name);
    if (value === undefined) throw new CloudBuildError('CLOUD_BUILD_VARIABLE_MISSING', `Cloud Build variable ${name} is not set: ${hint}`);
    return value;
  };
  const buildId = required('BUILD_ID', 'run slsa-ml attest-ci --platform cloud-build as a step of a Cloud Build build');
  const projectId = required('PROJECT_ID', 'run slsa-ml attest-ci --platform cloud-build as a step of a Cloud Build build');
  const projectNumber = required('PROJECT_NUMBER', AUTOMAP);
  const location = required('LOCATION', AUTOMAP);
  const trigger = triggerOf(get);
  const source = sourceOf(get);
  const serviceAccount = get('SERVICE_ACCOUNT_EMAIL');
  const substitutions = userSubstitutions(env);
  used.push(...Object.keys(substitutions));
  return {
    projectId,
    projectNumber,
    location,
    buildId,
    ...(trigger ? { trigger } : {}),
    ...(source ? { source } : {}),
    ...(serviceAccount ? { serviceAccount } : {}),
    substitutions,
    recordedFrom: { environment: [...new Set(used)].sort() },
  };
}

type Get = (name: string) => string | undefined;

function triggerOf(get: Get): CloudBuildRun['trigger'] {
  const name = get('TRIGGER_NAME');
  if (name === undefined) return undefined;
  const buildConfigPath = get('TRIGGER_BUILD_CONFIG_PATH');
  return { name, ...(buildConfigPath ? { buildConfigPath } : {}) };
}

function sourceOf(get: Get): CloudBuildRun['source'] {
  const commit = get('COMMIT_SHA');
  const repository = get('REPO_FULL_NAME');
  const branch = get('BRANCH_NAME');
  const tag = get('TAG_NAME');
  const ref = get('REF_NAME') ?? branch ?? tag;
  if (commit === undefined) {
    if (repository !== undefined) throw new CloudBuildError('CLOUD_BUILD_VARIABLE_MISSING', `Cloud Build variable COMMIT_SHA is not set, but REPO_FULL_NAME is: the build's source has no commit to record`);
    return undefined;
  }
  const refKind = branch !== undefined ? 'branch' : tag !== undefined ? 'tag' : undefined;
  return { ...(repository ? { repository } : {}), ...(ref ? { ref } : {}), ...(refKind ? { refKind } : {}), commit };
}

function userSubstitutions(env: CiEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (USER_SUBSTITUTION.test(name) && value !== undefined) out[name] = value;
  }
  return out;
}
