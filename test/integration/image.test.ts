import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { freePort } from '../../hack/env/ports.ts';
import { testEnv } from '../harness/index.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');

// No Docker engine runs here, so the image is checked by doing what its Dockerfile does:
// the same COPY set, the same production-only `npm ci`, then its entrypoint, run directly.
describe('the container image recipe (Dockerfile), run without Docker', () => {
  it('installs production dependencies only and starts the operator from its entrypoint', async () => {
    const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
    const npmCi = /^RUN (npm ci [^\n]+)$/m.exec(dockerfile)?.[1];
    assert.ok(npmCi?.includes('--omit=dev'), 'the image installs production dependencies only');
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \.\/?\S*$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/));
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.+\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];

    const app = mkdtempSync(join(tmpdir(), 'slsa-ml-image-'));
    for (const path of new Set(copies)) cpSync(join(repo, path), join(app, path), { recursive: true });
    // --prefer-offline: the packages come from the npm cache that `npm ci` filled before the tests.
    await run('sh', ['-c', `${npmCi} --prefer-offline`], { cwd: app });
    assert.throws(() => readFileSync(join(app, 'node_modules', 'typescript', 'package.json')), 'dev dependencies are not installed');

    const env = testEnv();
    const config = join(app, 'config.yaml');
    writeFileSync(config, stringify({ leaderElection: { enabled: false }, http: { port: await freePort(), host: '127.0.0.1' }, signer: { kind: 'key', keyPath: join(app, 'cosign.key') } }));
    await run(process.execPath, [join(app, entrypoint[1]?.replace('/app/', '') ?? ''), 'keygen', '--no-password', '--output-key-prefix', join(app, 'cosign')], { cwd: app });
    const child = spawn(process.execPath, [join(app, 'operator', 'bin.ts'), 'operator', '--config', config], {
      cwd: app, env: { PATH: process.env.PATH ?? '', KUBECONFIG: env.kubeconfigPath, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!output.includes('/metrics') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /"severity":"INFO"/);
  });
});
