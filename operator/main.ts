// `slsa-ml operator`: the controller process. Wires configuration, clients, leader election,
// the controller and the health/metrics server, and shuts down gracefully on SIGTERM.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { loadConfig, watchConfig, type OperatorConfig } from './config/index.ts';
import { Controller } from './controller.ts';
import { ClusterFacts, EventRecorder, KubeApi, TektonRuns, loadKubeConfig } from './kube/index.ts';
import { LeaderElector } from './leader/index.ts';
import { createLogger, createMetrics, logProcessWarnings, startHealthServer, type Metrics } from './observability/index.ts';
import { defaultInstallationName, ForeignOutcomes, Reconciler, type ReconcileMetrics } from './reconcile/index.ts';
import { buildSigningSetup, buildStorage, buildSummarySettings, reconcileSettings, runCollections } from './wiring.ts';
import { OPERATOR_VERSION } from './version.ts';

export interface OperatorArgs {
  readonly configPath: string | undefined;
}

export async function runOperator(args: OperatorArgs): Promise<void> {
  let config = loadConfig(args.configPath, process.env);
  const logger = createLogger({ level: config.logLevel });
  // A signal during start-up (keys read, clients built, nothing watched or written yet) ends the
  // process at once and cleanly; once the controller exists, a graceful shutdown takes over.
  let onSignal = (signal: string): void => {
    logger.info({ signal }, 'stopped during start-up');
    process.exit(0);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  logProcessWarnings(logger);
  const metrics = createMetrics();
  const identity = process.env.POD_NAME ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
  logger.info({ version: OPERATOR_VERSION, identity, installation: config.installation.name ?? defaultInstallationName(config.builderId), namespaces: config.namespaces, signer: config.signer.kind }, 'slsa-ml operator starting');

  const kc = loadKubeConfig({ requestMs: config.deadlines.requestSeconds * 1000 });
  const api = new KubeApi(kc, { requestMs: config.deadlines.requestSeconds * 1000 });
  let signing = await buildSigningSetup(config);
  let storage = buildStorage(config);
  let summaries = await buildSummarySettings(config);
  // Which kinds are watched is fixed at start-up: a reload that turned PipelineRuns on without
  // their watch would leave pipeline models attested at neither level.
  const pipelineRuns = config.pipelineRuns.enabled;
  const labelSelector = config.labelSelector;
  const foreign = new ForeignOutcomes({
    count: (decision) => metrics.foreignOutcomes.inc(decision),
    summary: (fields) => logger.warn({ ...fields, installation: signing.seal.installation }, 'outcomes sealed by another installation or an unknown key: do two installations watch the same namespaces? (docs/operator.md, "Running several installations")'),
  });
  const reconciler = new Reconciler({
    runs: { TaskRun: new TektonRuns(api, 'TaskRun'), PipelineRun: new TektonRuns(api, 'PipelineRun') },
    facts: new ClusterFacts(api),
    events: new EventRecorder(api, identity),
    storage: () => storage,
    signing: () => signing,
    settings: () => ({ ...reconcileSettings(config, summaries), pipelineRuns, labelSelector }),
    metrics: reconcileMetrics(metrics),
    logger,
    foreign,
  });
  const controller = new Controller({
    kubeConfig: kc,
    collections: runCollections(config),
    labelSelector: config.labelSelector,
    workers: config.workers,
    retry: config.retry,
    watch: config.watch,
    classifyOptions: () => ({ attestFailedRuns: config.attestFailedRuns, useFinalizer: config.finalizer.enabled, seal: signing.seal, pipelineRuns, judged: (uid, seal) => foreign.judged(uid, seal) }),
    reconciler,
    logger,
    onQueueDepth: (depth) => metrics.queueDepth.set(depth),
    onWatchRestart: () => metrics.watchRestarts.inc(),
    onUnparseableRecord: (resource) => metrics.watchUnparseable.inc(resource),
    onHandlerError: (resource) => metrics.watchHandlerErrors.inc(resource),
  });

  let leading = false;
  const server = await startHealthServer({
    port: config.http.port,
    host: config.http.host,
    metrics,
    // Ready once leading and the first lists are in (a standby is ready to take over at once).
    isReady: () => !leading || controller.hasSynced(),
    isHealthy: () => !leading || wedged(controller, config) === undefined,
  });
  metrics.attempts.observe(() => ({ inFlight: controller.attemptsInFlight, oldestSeconds: controller.oldestAttemptMs() / 1000 }));
  logger.info({ port: server.port }, 'serving /metrics, /healthz, /readyz');

  const stopWatchingConfig = args.configPath
    ? watchConfig(args.configPath, process.env, (next) => {
      void applyConfig(next).catch((err: unknown) => logger.error({ err: String(err) }, 'config reload failed; keeping the previous signer and storage'));
    }, (err) => logger.error({ err: err.message }, 'new configuration rejected; keeping the previous one'), config)
    : () => undefined;

  async function applyConfig(next: OperatorConfig): Promise<void> {
    const signingKeys = (c: OperatorConfig): string => JSON.stringify([c.signer, c.seal, c.deadlines, c.installation, c.builderId, c.previousPublicKeyPaths, c.transparency]);
    const summaryKeys = (c: OperatorConfig): string => JSON.stringify([c.verificationSummaries, c.builderId]);
    // A policy that cannot be used keeps everything as it was, the signer included.
    const nextSummaries = summaryKeys(next) !== summaryKeys(config) ? await buildSummarySettings(next) : summaries;
    if (signingKeys(next) !== signingKeys(config)) signing = await buildSigningSetup(next);
    if (JSON.stringify(next.storage) !== JSON.stringify(config.storage)) storage = buildStorage(next);
    summaries = nextSummaries;
    const restartNeeded = ['namespaces', 'labelSelector', 'workers', 'leaderElection', 'http', 'watch', 'deadlines']
      .filter((k) => JSON.stringify(next[k as keyof OperatorConfig]) !== JSON.stringify(config[k as keyof OperatorConfig]));
    if (next.pipelineRuns.enabled !== config.pipelineRuns.enabled) restartNeeded.push('pipelineRuns.enabled');
    config = next;
    logger.info({ restartNeededFor: restartNeeded }, 'configuration reloaded');
  }

  const elector = config.leaderElection.enabled
    ? new LeaderElector({
      kubeConfig: kc,
      namespace: config.leaderElection.namespace,
      name: config.leaderElection.leaseName,
      identity,
      leaseDurationSeconds: config.leaderElection.leaseDurationSeconds,
      renewDeadlineSeconds: config.leaderElection.renewDeadlineSeconds,
      retryPeriodSeconds: config.leaderElection.retryPeriodSeconds,
      logger,
      onStartedLeading: () => {
        leading = true;
        metrics.leader.set(true);
        logger.info('became leader; starting the controller');
        controller.start();
      },
      onStoppedLeading: () => {
        metrics.leader.set(false);
        if (!shuttingDown) {
          // As controller-runtime does: a replica that lost its lease exits and starts afresh.
          logger.error('lost the leader lease; exiting');
          process.exit(1);
        }
      },
    })
    : undefined;

  let shuttingDown = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing in-flight work');
    // Never outlive the Pod's grace period: whatever is unfinished is redone by the next leader.
    setTimeout(() => {
      logger.error('graceful shutdown did not finish in 45 s; exiting');
      process.exit(1);
    }, 45_000).unref();
    stopWatchingConfig();
    await controller.stop();
    await elector?.stop();
    await server.close();
    logger.info('stopped');
    process.exit(0);
  };
  onSignal = (signal) => void shutdown(signal);

  if (elector) {
    await elector.run();
  } else {
    leading = true;
    metrics.leader.set(true);
    controller.start();
  }
}

/**
 * Why a leader is wedged, so that the kubelet restarts it: its watches heard nothing for twice the
 * stall limit, or an attempt has outlived its deadline by more than its last calls could take
 * (attempts are cut at deadlines.reconcileSeconds; one still running later means a stuck worker).
 */
function wedged(controller: Controller, config: OperatorConfig): string | undefined {
  if (controller.maxSilenceMs() >= config.watch.stallSeconds * 2000) return 'watch silent';
  const limitMs = (config.deadlines.reconcileSeconds + 4 * config.deadlines.requestSeconds) * 1000;
  if (controller.oldestAttemptMs() > limitMs) return 'worker stuck';
  return undefined;
}

function reconcileMetrics(metrics: Metrics): ReconcileMetrics {
  return {
    outcome(outcome, seconds): void {
      metrics.attestations.inc(outcome.kind);
      if (outcome.kind === 'failed') metrics.failures.inc(outcome.code);
      if (outcome.kind === 'signed' && seconds !== undefined) metrics.completionToStored.observe(seconds);
    },
    retried(): void {
      metrics.retries.inc();
    },
  };
}

export type { Logger };
