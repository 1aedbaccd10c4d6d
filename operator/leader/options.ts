import type { ClusterAccess } from '../kube/index.ts';
import type { Logger } from '../observability/index.ts';
import { LeaderElectionError } from './errors.ts';

export interface LeaderElectorOptions {
  kubeConfig: ClusterAccess;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** Unique per replica (the pod name); written as the Lease's holderIdentity. */
  identity: string;
  /** How long a standby waits, after it last saw the Lease change, before taking it over. */
  leaseDurationSeconds: number;
  /** A leader that has not renewed for this long stops leading; below leaseDurationSeconds. */
  renewDeadlineSeconds: number;
  /** Pause between attempts to acquire or renew. */
  retryPeriodSeconds: number;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /**
   * stop() hands the Lease back (holder cleared) so a standby takes over at once; default true.
   * false leaves the Lease to expire, as after a crash.
   */
  releaseOnStop?: boolean;
}

/** As client-go: the leader must give up before a standby may take over, with retries between. */
export function checkOptions(o: LeaderElectorOptions): void {
  const fail = (message: string): never => {
    throw new LeaderElectionError('INVALID_OPTIONS', message);
  };
  if (!o.identity) fail('identity must not be empty');
  if (!o.namespace || !o.name) fail('the Lease namespace and name must not be empty');
  if (!(o.retryPeriodSeconds > 0)) fail('retryPeriodSeconds must be positive');
  if (!(o.renewDeadlineSeconds > o.retryPeriodSeconds)) fail('renewDeadlineSeconds must exceed retryPeriodSeconds');
  if (!(o.leaseDurationSeconds > o.renewDeadlineSeconds)) fail('leaseDurationSeconds must exceed renewDeadlineSeconds');
}
