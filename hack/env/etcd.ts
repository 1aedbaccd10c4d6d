// etcd for the API server: loopback only, throwaway data directory, no fsync (tests only).
import { join } from 'node:path';
import { freePorts } from './ports.ts';
import { startDetached, waitReady, type Started } from './processes.ts';

export interface EtcdHandle extends Started {
  readonly clientURL: string;
}

export async function startEtcd(binary: string, stateDir: string): Promise<EtcdHandle> {
  const [clientPort, peerPort] = await freePorts(2);
  const clientURL = `http://127.0.0.1:${clientPort}`;
  const peerURL = `http://127.0.0.1:${peerPort}`;
  const proc = startDetached('etcd', binary, [
    '--name=default',
    `--data-dir=${join(stateDir, 'etcd-data')}`,
    `--listen-client-urls=${clientURL}`,
    `--advertise-client-urls=${clientURL}`,
    `--listen-peer-urls=${peerURL}`,
    `--initial-advertise-peer-urls=${peerURL}`,
    `--initial-cluster=default=${peerURL}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ], join(stateDir, 'etcd.log'));
  const ready = async (): Promise<boolean> => {
    const res = await fetch(`${clientURL}/health`);
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  };
  await waitReady(proc, ready, 30_000);
  return { ...proc, clientURL };
}
