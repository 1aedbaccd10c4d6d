// A simulated Google Cloud Build step running the slsa-ml image's entrypoint: `node
// operator/bin.ts ARGS` as its own process, in a /workspace-like folder, with the variables
// Cloud Build sets (BUILD_ID, PROJECT_ID, HOME) plus the substitutions `options:
// automapSubstitutions: true` maps into every step, the metadata server (metadata-server.ts)
// issuing the build's service account's tokens, and the Cloud Build API (cloud-build-api.ts)
// holding the running build's record. Fulcio and Rekor are @sigstore/mock's behind nock in the
// test process; a local relay forwards the step's requests to them.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildRecordFor, startCloudBuildApi, type CloudBuildApi } from './cloud-build-api.ts';
import { startMetadataServer, type MetadataServer } from './metadata-server.ts';
import type { SigstoreMock } from './signing-sigstore-mock.ts';
import { forward, listen } from './http-forward.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

export const BUILD = {
  buildId: '6c1f6a2e-4b8d-4e0a-9d55-0f6c2b7e9a11',
  projectId: 'acme-ml',
  projectNumber: '123456789012',
  location: 'us-central1',
  serviceAccount: 'cifar10-trainer@acme-ml.iam.gserviceaccount.com',
  commit: '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f',
} as const;

/** What a push to acme/models main, through trigger train-cifar10, puts in each step's environment. */
export function triggeredBuildEnv(substitutions: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    BUILD_ID: BUILD.buildId,
    PROJECT_ID: BUILD.projectId,
    PROJECT_NUMBER: BUILD.projectNumber,
    LOCATION: BUILD.location,
    TRIGGER_NAME: 'train-cifar10',
    TRIGGER_BUILD_CONFIG_PATH: 'examples/cloud-build/cloudbuild.yaml',
    COMMIT_SHA: BUILD.commit,
    REVISION_ID: BUILD.commit,
    SHORT_SHA: BUILD.commit.slice(0, 7),
    REPO_NAME: 'models',
    REPO_FULL_NAME: 'acme/models',
    BRANCH_NAME: 'main',
    TAG_NAME: '',
    REF_NAME: 'main',
    SERVICE_ACCOUNT_EMAIL: BUILD.serviceAccount,
    SERVICE_ACCOUNT: `projects/${BUILD.projectId}/serviceAccounts/${BUILD.serviceAccount}`,
    ...substitutions,
  };
}

export interface StepRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CloudBuildStep {
  readonly metadata: MetadataServer;
  readonly api: CloudBuildApi;
  /** Fulcio and Rekor as the step reaches them (--fulcio-url, --rekor-url). */
  readonly fulcioURL: string;
  readonly rekorURL: string;
  /** Runs the image's entrypoint with ARGS; `env` adds or (undefined) removes variables. */
  run(args: readonly string[], env?: Readonly<Record<string, string | undefined>>): Promise<StepRun>;
  close(): Promise<void>;
}

export async function startCloudBuildStep(mock: SigstoreMock, base: Readonly<Record<string, string>> = triggeredBuildEnv()): Promise<CloudBuildStep> {
  const metadata = await startMetadataServer({ email: base.SERVICE_ACCOUNT_EMAIL ?? BUILD.serviceAccount });
  const api = await startCloudBuildApi(metadata.accessToken);
  api.builds.set(`projects/${base.PROJECT_ID ?? ''}/locations/${base.LOCATION ?? ''}/builds/${base.BUILD_ID ?? ''}`, buildRecordFor(base));
  const relay = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname.startsWith('/fulcio/')) return void forward(req, res, mock.fulcioURL + url.pathname.slice('/fulcio'.length));
    if (req.method === 'POST' && url.pathname.startsWith('/rekor/')) return void forward(req, res, mock.rekorURL + url.pathname.slice('/rekor'.length));
    res.writeHead(404).end();
  });
  const relayURL = await listen(relay);
  return {
    metadata,
    api,
    fulcioURL: `${relayURL}/fulcio`,
    rekorURL: `${relayURL}/rekor`,
    run: (args, env = {}) => runStep(args, { ...base, GCE_METADATA_HOST: metadata.host, SLSA_ML_CLOUD_BUILD_API: api.url }, env),
    close: async () => {
      await api.close();
      await metadata.close();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}

async function runStep(args: readonly string[], base: Record<string, string>, overrides: Readonly<Record<string, string | undefined>>): Promise<StepRun> {
  const workspace = await mkdtemp(join(tmpdir(), 'slsa-ml-cloud-build-'));
  try {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: join(workspace, 'builder-home'), ...base };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    return await new Promise((resolve) => {
      execFile(process.execPath, [join(repoRoot, 'operator', 'bin.ts'), ...args], { env, cwd: workspace, timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}
