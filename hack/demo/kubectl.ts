// kubectl as the user runs it (the v1.34 build from hack/install-tools.sh), against the local
// environment's admin context; each command is printed before it runs.
import { execFile } from 'node:child_process';
import { toolPaths, requireTool } from '../env/tools.ts';
import type { TestEnv } from '../../test/harness/index.ts';
import { say } from './say.ts';

export function kubectl(env: TestEnv, args: readonly string[], input?: string): Promise<string> {
  const binary = requireTool(toolPaths().kubectl, 'kubectl');
  say(`   $ kubectl ${args.join(' ')}${input === undefined ? '' : ' <<EOF …'}`);
  return new Promise((resolve, reject) => {
    const child = execFile(binary, [...args], { env: { ...process.env, KUBECONFIG: env.kubeconfigPath } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
