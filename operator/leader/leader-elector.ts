// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
// a standby takes the Lease over only when it has no holder, or when its record has not changed
// for the lease duration as measured on OUR monotonic clock (the holder's renewTime comes from
// another machine's clock and is never compared with ours). The leader renews every retry
// period and stops leading when no renew has succeeded within the renew deadline.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaseClient, type ObservedLease, type WriteResult } from './lease-client.ts';
import { sameRecord, type LeaseRecord } from './lease-record.ts';
import { checkOptions, type LeaderElectorOptions } from './options.ts';

type Attempt = 'acquired' | 'held' | 'conflict' | 'failed';
/** client-go's JitterFactor: standbys spread their attempts over 1–2.2 retry periods. */
const ACQUIRE_JITTER = 1.2;

export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #client: LeaseClient;
  readonly #stopping = new AbortController();
  /** The Lease as last read or written, and when (monotonic ms) that record was first seen. */
  #observed: { lease: ObservedLease; at: number } | undefined;
  #leading = false;
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    checkOptions(options);
    this.#o = options;
    this.#client = new LeaseClient({ ...options, timeoutMs: options.renewDeadlineSeconds * 1000 });
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Campaigns, then leads; resolves when leadership is lost or stop() is called. */
  run(): Promise<void> {
    this.#running ??= this.#campaign();
    return this.#running;
  }

  /**
   * Stops campaigning or leading; if leading, releases the Lease (holder cleared) so a standby
   * takes over at once. Stop the work the Lease guards before calling it.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
  }

  async #campaign(): Promise<void> {
    const fields = { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity };
    this.#o.logger.info(fields, 'campaigning for leadership');
    if (!(await this.#acquire())) return;
    if (this.#stopping.signal.aborted) return this.#release(); // won just as we were told to stop
    this.#leading = true;
    this.#o.logger.info(fields, 'started leading');
    this.#notify(this.#o.onStartedLeading);
    const ending = await this.#renew();
    this.#leading = false;
    if (ending === 'stopped') await this.#release();
    this.#o.logger.info({ ...fields, ending }, 'stopped leading');
    this.#notify(this.#o.onStoppedLeading);
  }

  async #acquire(): Promise<boolean> {
    while (!this.#stopping.signal.aborted) {
      if ((await this.#tryAcquireOrRenew()) === 'acquired') return true;
      await this.#pause(this.#o.retryPeriodSeconds * 1000 * (1 + Math.random() * ACQUIRE_JITTER));
    }
    return false;
  }

  async #renew(): Promise<'lost' | 'stopped' | 'deadline'> {
    const deadlineMs = this.#o.renewDeadlineSeconds * 1000;
    let renewedAt = this.#observed?.at ?? performance.now();
    for (;;) {
      await this.#pause(this.#o.retryPeriodSeconds * 1000);
      if (this.#stopping.signal.aborted) return 'stopped';
      const started = performance.now();
      const left = renewedAt + deadlineMs - started;
      const attempt = left > 0 ? await within(this.#tryAcquireOrRenew(), left) : 'failed';
      if (attempt === 'acquired') renewedAt = started;
      else if (attempt === 'held') return 'lost';
      else if (performance.now() - renewedAt >= deadlineMs) return 'deadline';
    }
  }

  async #tryAcquireOrRenew(): Promise<Attempt> {
    const started = performance.now();
    const now = new Date();
    try {
      const current = await this.#client.get();
      if (!current) return this.#wrote(await this.#client.create(this.#nextRecord(undefined, now)), started);
      if (!this.#observed || !sameRecord(this.#observed.lease.record, current.record)) {
        this.#observed = { lease: current, at: performance.now() };
      }
      if (this.#heldByAnother(current.record)) return 'held';
      return this.#wrote(await this.#client.update(this.#nextRecord(current.record, now), current.resourceVersion), started);
    } catch (err) {
      this.#o.logger.warn({ err, lease: `${this.#o.namespace}/${this.#o.name}` }, 'leader election: Lease call failed');
      return 'failed';
    }
  }

  #heldByAnother(record: LeaseRecord): boolean {
    const holder = record.holderIdentity;
    if (holder === '' || holder === this.#o.identity) return false;
    const durationMs = (record.leaseDurationSeconds || this.#o.leaseDurationSeconds) * 1000;
    return performance.now() < (this.#observed?.at ?? 0) + durationMs;
  }

  #nextRecord(old: LeaseRecord | undefined, now: Date): LeaseRecord {
    const mine = old !== undefined && old.holderIdentity === this.#o.identity;
    return {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationSeconds),
      acquireTime: mine ? (old.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: old === undefined ? 0 : old.leaseTransitions + (mine ? 0 : 1),
    };
  }

  #wrote(result: WriteResult, started: number): Attempt {
    if (result === 'conflict') return 'conflict';
    this.#observed = { lease: result, at: started };
    return 'acquired';
  }

  /** Hands the Lease back with a 1 s duration, as client-go's ReleaseOnCancel does. */
  async #release(): Promise<void> {
    const seen = this.#observed?.lease;
    if (this.#o.releaseOnStop === false || seen?.record.holderIdentity !== this.#o.identity) return;
    const now = new Date();
    const released: LeaseRecord = {
      holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: seen.record.leaseTransitions,
    };
    try {
      const result = await this.#client.update(released, seen.resourceVersion);
      if (result !== 'conflict') this.#observed = { lease: result, at: performance.now() };
      this.#o.logger.info({ lease: `${this.#o.namespace}/${this.#o.name}`, released: result !== 'conflict' }, 'handed the Lease back');
    } catch (err) {
      this.#o.logger.warn({ err }, 'releasing the Lease failed; it will expire instead');
    }
  }

  #notify(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.#o.logger.error({ err }, 'leader election callback threw');
    }
  }

  async #pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
  }
}

/** The attempt's result, or 'failed' if it takes longer than `ms` (the request runs on, ignored). */
async function within(attempt: Promise<Attempt>, ms: number): Promise<Attempt> {
  const timer = new AbortController();
  const timeout = sleep(ms, 'failed' as const, { signal: timer.signal }).catch(() => 'failed' as const);
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    timer.abort();
  }
}
