// The real kube-scheduler (same Kubernetes release and tools module as kube-apiserver): it binds
// the Pods Tekton creates to the fake GKE nodes their nodeSelector, tolerations and resource
// requests (nvidia.com/gpu, google.com/tpu) fit, exactly as on GKE.
import { join } from 'node:path';
import { answersOk } from './health.ts';
import { freePort } from './ports.ts';
import { startDetached, waitReady, type Started } from './processes.ts';

export interface SchedulerHandle extends Started {
  readonly port: number;
}

export async function startKubeScheduler(binary: string, stateDir: string, kubeconfig: string): Promise<SchedulerHandle> {
  const port = await freePort();
  const proc = startDetached('kube-scheduler', binary, [
    `--kubeconfig=${kubeconfig}`,
    // One scheduler per environment; a Lease would only delay its start.
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(stateDir, 'scheduler-certs')}`,
    '--v=1',
  ], join(stateDir, 'kube-scheduler.log'), { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stateDir });
  return { ...proc, port };
}

/** /readyz includes the informer sync; health paths need no credentials. */
export async function waitSchedulerReady(proc: SchedulerHandle, timeoutMs: number): Promise<void> {
  await waitReady(proc, () => answersOk(`https://127.0.0.1:${proc.port}/readyz`), timeoutMs);
}
