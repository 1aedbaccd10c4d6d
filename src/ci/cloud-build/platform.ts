// Google Cloud Build as a CiPlatform: a step of the build runs `slsa-ml attest-ci --platform
// cloud-build`. Its identity is the build's service account, whose tokens the metadata server
// issues to every step. Its facts are Cloud Build's record of the build (builds.get, read with
// that account) checked against the step's environment, or the environment alone when
// $SLSA_ML_CLOUD_BUILD_API=off.
import type { CiEnv, CiPlatform, CiStatementInput } from '../platform.ts';
import { buildCloudBuildStatement, type CloudBuildRun } from '../../provenance/cloud-build-statement.ts';
import type { Statement } from '../../provenance/types.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../signing/deadline.ts';
import { tokenFromGceMetadata } from '../../signing/sigstore/tokens.ts';
import { metadataAccessToken } from './access-token.ts';
import { cloudBuildApi } from './api-setting.ts';
import { readBuildRecord } from './build-record.ts';
import { readCloudBuildEnv } from './env.ts';
import { CloudBuildError } from './errors.ts';
import { runFromRecord } from './record-facts.ts';
import { serviceAccountOf } from './token-identity.ts';

export const cloudBuildPlatform: CiPlatform = {
  name: 'cloud-build',
  // Cloud Build sets both in every step, whatever the build config says.
  detect: (env) => Boolean(env.BUILD_ID && env.PROJECT_ID),
  // GCE_METADATA_HOST (host[:port]) moves the metadata server, as Google's client libraries allow.
  identityToken: (env) => tokenFromGceMetadata('sigstore', env.GCE_METADATA_HOST || undefined),
  statement: cloudBuildStatement,
};

async function cloudBuildStatement(env: CiEnv, input: CiStatementInput): Promise<Statement> {
  const fromEnv = readCloudBuildEnv(env);
  const api = cloudBuildApi(env);
  const run = api === undefined ? fromEnv : runFromRecord(await recordOf(api, fromEnv, env), env, fromEnv, api);
  return buildCloudBuildStatement({
    build: withTokenIdentity(run, input.identityToken),
    subjects: input.subjects,
    reported: input.reported,
    builderVersion: input.builderVersion,
    finishedOn: input.finishedOn,
  });
}

// One deadline for both calls: the access token, then the build's record.
async function recordOf(api: string, build: CloudBuildRun, env: CiEnv): Promise<Parameters<typeof runFromRecord>[0]> {
  const signal = AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT_MS);
  const accessToken = await metadataAccessToken(env.GCE_METADATA_HOST, signal);
  return readBuildRecord({ api, projectId: build.projectId, location: build.location, buildId: build.buildId, accessToken, signal });
}

// Keyless, the token's email is the signer: record it, and refuse a build that names another
// service account (something rewrote SERVICE_ACCOUNT_EMAIL, or the step runs as another).
function withTokenIdentity(build: CloudBuildRun, token: string | undefined): CloudBuildRun {
  if (token === undefined) return build;
  const email = serviceAccountOf(token);
  if (build.serviceAccount !== undefined && build.serviceAccount !== email) {
    const named = build.recordedFrom.cloudBuildApi?.includes('serviceAccount') ? 'Cloud Build\'s record names the service account' : 'Cloud Build variable SERVICE_ACCOUNT_EMAIL=';
    throw new CloudBuildError('CLOUD_BUILD_VARIABLE_INVALID', `${named}${named.endsWith('=') ? '' : ' '}${build.serviceAccount}, which differs from the identity token's email ${email}`);
  }
  const environment = build.recordedFrom.environment.filter((name) => name !== 'SERVICE_ACCOUNT_EMAIL');
  return { ...build, serviceAccount: email, recordedFrom: { ...build.recordedFrom, environment, identityToken: ['email'] } };
}
