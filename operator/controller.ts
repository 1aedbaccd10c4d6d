// Feeds the work queue from TaskRun and PipelineRun watches and runs the reconcile workers. Runs
// only on the leader; stop() lets in-flight reconciles finish (graceful SIGTERM).
import type { Logger } from 'pino';
import { controllingPipelineRun, Reflector, type ClusterAccess, type ObjectWithMeta, type RunKind } from './kube/index.ts';
import { WorkQueue } from './queue/index.ts';
import { classify, declaresOutputs, runKey, type ClassifyOptions, type Reconciler } from './reconcile/index.ts';

export interface ControllerOptions {
  readonly kubeConfig: ClusterAccess;
  readonly collections: ReadonlyArray<{ readonly kind: RunKind; readonly path: string }>;
  readonly labelSelector: string;
  readonly workers: number;
  readonly retry: { initialDelayMs: number; maxDelayMs: number };
  readonly watch: { relistSeconds: number; stallSeconds: number };
  readonly classifyOptions: () => ClassifyOptions;
  readonly reconciler: Reconciler;
  readonly logger: Logger;
  readonly onQueueDepth: (depth: number) => void;
  readonly onWatchRestart: (reason: string) => void;
  /** A watch or list record that did not parse, by resource (taskruns, pipelineruns). */
  readonly onUnparseableRecord?: (resource: string) => void;
  /** An object the controller threw on and skipped, by resource. */
  readonly onHandlerError?: (resource: string) => void;
}

export class Controller {
  readonly #opts: ControllerOptions;
  readonly #queue: WorkQueue;
  readonly #reflectors: Reflector[];
  /** Start time of each attempt in flight, by key: what /healthz and the metrics look at. */
  readonly #attempts = new Map<string, number>();
  #workers: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.#opts = options;
    this.#queue = new WorkQueue(options.retry, {
      onDepth: options.onQueueDepth,
      onError: (key, err) => options.logger.error({ key, err: String(err) }, 'reconcile failed unexpectedly; backing off'),
    });
    this.#reflectors = options.collections.map(({ kind, path }) => new Reflector({
      kubeConfig: options.kubeConfig,
      path,
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      relistSeconds: options.watch.relistSeconds,
      stallSeconds: options.watch.stallSeconds,
      logger: options.logger,
      onObject: (type, obj) => this.#onObject(kind, type, obj),
      onRestart: options.onWatchRestart,
      ...(options.onUnparseableRecord ? { onUnparseable: options.onUnparseableRecord } : {}),
      ...(options.onHandlerError ? { onHandlerError: options.onHandlerError } : {}),
    }));
  }

  start(): void {
    for (const r of this.#reflectors) r.start();
    this.#workers ??= this.#queue.run(this.#opts.workers, (key) => this.#reconcile(key));
  }

  /** Stops watching, drops queued keys and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    this.#queue.shutDown();
    await Promise.all(this.#reflectors.map((r) => r.stop()));
    await this.#workers;
  }

  hasSynced(): boolean {
    return this.#reflectors.every((r) => r.hasSynced());
  }

  /** Longest time any watch has heard nothing from the API server. */
  maxSilenceMs(): number {
    return Math.max(0, ...this.#reflectors.map((r) => r.silenceMs()));
  }

  get queueDepth(): number {
    return this.#queue.depth;
  }

  get attemptsInFlight(): number {
    return this.#attempts.size;
  }

  /** How long the oldest attempt in flight has been running (0 when none is). */
  oldestAttemptMs(): number {
    let oldest = Infinity;
    for (const started of this.#attempts.values()) oldest = Math.min(oldest, started);
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  #onObject(kind: RunKind, type: string, obj: ObjectWithMeta): void {
    if (type === 'DELETED') return;
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (!ns || !name) return;
    const options = this.#opts.classifyOptions();
    const action = classify(obj, this.#optionsFor(kind, options), kind);
    // A running PipelineRun is looked at for a hold only when one of its children asks (below).
    // What a list replays (SYNC) waits behind what the watch reports as it happens — except a hold:
    // a run that started while we were away may finish any moment, and holding it is one cheap write.
    if (action !== 'ignore' && action !== 'check-hold') this.#queue.add(runKey(kind, ns, name), laneFor(type, action));
    if (kind === 'TaskRun' && options.pipelineRuns === true && options.useFinalizer) this.#onPipelineTask(ns, obj);
  }

  /**
   * With a label selector, whether a TaskRun's PipelineRun is selected takes a request: its
   * children are queued as any TaskRun, and the reconciler asks.
   */
  #optionsFor(kind: RunKind, options: ClassifyOptions): ClassifyOptions {
    return kind === 'TaskRun' && this.#opts.labelSelector !== '' ? { ...options, pipelineRuns: false } : options;
  }

  /** A running child that declares a model output: its PipelineRun may need our finalizer. */
  #onPipelineTask(ns: string, obj: ObjectWithMeta): void {
    const parent = controllingPipelineRun(obj.metadata);
    if (!parent) return;
    const status = (obj.status ?? {}) as { conditions?: Array<{ type?: string; status?: string }> };
    const running = status.conditions?.find((c) => c.type === 'Succeeded')?.status ?? 'Unknown';
    if (running === 'Unknown' && obj.metadata?.deletionTimestamp == null && declaresOutputs(status)) this.#queue.add(runKey('PipelineRun', ns, parent.name));
  }

  async #reconcile(key: string): Promise<'done' | 'retry'> {
    this.#attempts.set(key, Date.now());
    try {
      return await this.#opts.reconciler.reconcile(key, this.#queue.failures(key));
    } catch (err) {
      // API faults while reading or recording: the key backs off and is tried again.
      this.#opts.logger.warn({ key, err: String(err) }, 'reconcile error; will retry');
      return 'retry';
    } finally {
      this.#attempts.delete(key);
    }
  }
}

function laneFor(type: string, action: string): 'now' | 'backlog' {
  return type === 'SYNC' && action !== 'hold' ? 'backlog' : 'now';
}
