// The real kube-controller-manager (same Kubernetes release and tools module as kube-apiserver),
// with only the Deployment and ReplicaSet controllers: what turns the Deployment KServe's
// controller makes for an InferenceService in RawDeployment mode into Pods, and reports their
// readiness back (the Deployment's Available condition KServe reads). Started by the tests that
// need it, not by every environment: nothing else here makes Deployments.
import { join } from 'node:path';
import { answersOk } from './health.ts';
import { freePort } from './ports.ts';
import { startDetached, waitReady, type Started } from './processes.ts';

export const CONTROLLERS = ['deployment-controller', 'replicaset-controller'] as const;

export interface ControllerManagerHandle extends Started {
  readonly port: number;
}

/**
 * `kubeconfig` is the environment's (its current context, the admin): on GKE the controller manager
 * runs with the control plane's own credentials, and no other identity here has its rights.
 */
export async function startKubeControllerManager(binary: string, stateDir: string, kubeconfig: string): Promise<ControllerManagerHandle> {
  const port = await freePort();
  const proc = startDetached('kube-controller-manager', binary, [
    `--kubeconfig=${kubeconfig}`,
    `--controllers=${CONTROLLERS.join(',')}`,
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(stateDir, 'controller-manager-certs')}`,
    '--v=1',
  ], join(stateDir, 'kube-controller-manager.log'), { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stateDir });
  return { ...proc, port };
}

/** /healthz once its controllers are started; health paths need no credentials. */
export async function waitControllerManagerReady(proc: ControllerManagerHandle, timeoutMs: number): Promise<void> {
  await waitReady(proc, () => answersOk(`https://127.0.0.1:${proc.port}/healthz`), timeoutMs);
}
