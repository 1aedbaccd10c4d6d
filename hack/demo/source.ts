// The training source the pipeline's fetch-source task clones: this checkout, as a file:// URL
// (no internet needed), at its HEAD commit. The train, evaluate and upload tasks run the
// tasks/training package of that commit, so what trains is what is committed, not the working
// tree's uncommitted edits.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');

export interface DemoSource {
  /** What fetch-source clones (its git-url param). */
  readonly url: string;
  /** The commit it checks out (its git-revision param): HEAD of the checkout. */
  readonly commit: string;
  /** Files under tasks/training that differ from that commit (they do not train). */
  readonly uncommitted: readonly string[];
}

const git = async (args: readonly string[]): Promise<string> => (await run('git', ['-C', repo, ...args])).stdout.trim();

/** This checkout as the pipeline's source; one clear line when it cannot be. */
export async function demoSource(): Promise<DemoSource> {
  let top: string;
  let commit: string;
  try {
    top = await git(['rev-parse', '--show-toplevel']);
    commit = await git(['rev-parse', '--verify', 'HEAD^{commit}']);
  } catch {
    throw new Error(`${repo} is not a git repository with a commit: the pipeline's fetch-source task clones its training source from this checkout (git clone the repository to run the demo)`);
  }
  try {
    await git(['cat-file', '-e', `${commit}:tasks/training/__main__.py`]);
  } catch {
    throw new Error(`commit ${commit} of ${top} has no tasks/training: the pipeline's train task runs the training package of the commit fetch-source clones`);
  }
  const status = await git(['status', '--porcelain', '--untracked-files=all', '--', 'tasks/training']);
  const uncommitted = status.split('\n').filter(Boolean).map((line) => line.slice(3));
  return { url: pathToFileURL(top).href, commit, uncommitted };
}
