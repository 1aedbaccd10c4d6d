// npm run env:up / env:down — start or stop the local environment by hand.
//   up:   prints `export` lines for SLSA_ML_ENV and KUBECONFIG (eval them in your shell)
//   down: stops the environment named by $SLSA_ML_ENV, an env.json path argument, or the last one `up` started
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_FILE, readEnvInfo, startEnvironment, stopEnvironment } from './environment.ts';
import { cacheDir } from './tools.ts';

const lastEnvFile = join(cacheDir(), 'last-env');

async function up(): Promise<void> {
  const info = await startEnvironment();
  const envFile = join(info.stateDir, ENV_FILE);
  mkdirSync(cacheDir(), { recursive: true });
  writeFileSync(lastEnvFile, envFile);
  console.error(`slsa-ml local environment up in ${info.startupMs.total} ms (${JSON.stringify(info.startupMs)})`);
  console.error(`  kube-apiserver ${info.kubeVersion} at ${info.server} (Tekton ${info.tektonVersion} and KServe ${info.kserveVersion} CRDs)`);
  console.error(`  fake-gcs-server at ${info.gcsEndpoint}`);
  console.error(`  contexts: ${Object.keys(info.identities).join(', ')}; stop with: npm run env:down`);
  console.log(`export SLSA_ML_ENV=${envFile}`);
  console.log(`export KUBECONFIG=${info.kubeconfig}`);
  console.log(`export SLSA_ML_GCS_ENDPOINT=${info.gcsEndpoint}`);
}

async function down(arg: string | undefined): Promise<void> {
  const lastEnv = existsSync(lastEnvFile) ? readFileSync(lastEnvFile, 'utf8').trim() : undefined;
  const envFile = arg ?? process.env.SLSA_ML_ENV ?? lastEnv;
  if (!envFile || !existsSync(envFile)) {
    console.error('env down: no running environment found (give the env.json path or set SLSA_ML_ENV)');
    process.exitCode = 1;
    return;
  }
  await stopEnvironment(readEnvInfo(envFile));
  if (envFile === lastEnv) rmSync(lastEnvFile, { force: true });
  console.error(`stopped ${envFile}`);
}

const [command, arg] = process.argv.slice(2);
if (command === 'up') await up();
else if (command === 'down') await down(arg);
else {
  console.error('usage: node hack/env/cli.ts up | down [ENV_JSON]');
  process.exitCode = 2;
}
