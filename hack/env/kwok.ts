// kwok plays the kubelet of every fake GKE node: it keeps the nodes Ready and moves the Pods
// bound to them through their lifecycle with the Stages in kwok-stages.yaml.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, startDetached, tail, type Started } from './processes.ts';
import { KWOK_NODE_ANNOTATION } from './node-pools.ts';

export const KWOK_STAGES = join(import.meta.dirname, 'kwok-stages.yaml');

export function startKwok(binary: string, stateDir: string, kubeconfig: string): Started {
  // Its own HOME: kwok also reads ~/.kwok/kwok.yaml, which must not leak into the environment.
  const home = join(stateDir, 'kwok-home');
  mkdirSync(home, { recursive: true });
  const [key, value] = Object.entries(KWOK_NODE_ANNOTATION)[0] ?? [];
  return startDetached('kwok', binary, [
    `--kubeconfig=${kubeconfig}`,
    `--config=${KWOK_STAGES}`,
    `--manage-nodes-with-annotation-selector=${key}=${value}`,
    '--cidr=10.32.0.0/16',
    '--node-ip=10.128.0.2',
  ], join(stateDir, 'kwok.log'), { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home });
}

/** Throws with kwok's log when it has exited (for waits that depend on it). */
export function assertKwokAlive(proc: Started): void {
  if (!isAlive(proc.pid)) throw new Error(`kwok exited; last lines of ${proc.log}:\n${tail(proc.log)}`);
}
