// A bare git repository on this machine holding the given files in one commit on `main`: what
// Tekton's git resolver (running here as a process) clones when a run names it by path.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GitRepo {
  /** The repository's path, which the git resolver accepts as its `url` param. */
  readonly url: string;
  readonly commit: string;
  remove(): void;
}

export async function localGitRepo(files: Readonly<Record<string, string>>): Promise<GitRepo> {
  const root = mkdtempSync(join(tmpdir(), 'slsa-ml-git-'));
  const url = join(root, 'tasks.git');
  const work = join(root, 'work');
  const env = {
    ...process.env, GIT_AUTHOR_NAME: 'slsa-ml test', GIT_AUTHOR_EMAIL: 'test@slsa-ml.dev', GIT_COMMITTER_NAME: 'slsa-ml test', GIT_COMMITTER_EMAIL: 'test@slsa-ml.dev',
    GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
  };
  const git = async (cwd: string, ...args: string[]): Promise<string> => (await run('git', args, { cwd, env })).stdout.trim();
  await git(root, 'init', '-q', '--bare', '-b', 'main', url);
  await git(root, 'init', '-q', '-b', 'main', work);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  await git(work, 'add', '.');
  await git(work, 'commit', '-q', '-m', 'tasks');
  await git(work, 'push', '-q', url, 'main');
  const commit = await git(work, 'rev-parse', 'HEAD');
  return { url, commit, remove: () => rmSync(root, { recursive: true, force: true }) };
}
