export { createLogger, logProcessWarnings, severityOf, type Logger } from './logger.ts';
export { REDACT_PATHS, REDACTED } from './redaction.ts';
export {
  createMetrics,
  FAILURE_REASONS,
  COMPLETION_TO_STORED_BUCKETS,
  type Metrics,
  type FailureReason,
  type AttestationOutcome,
} from './metrics.ts';
export { startHealthServer, type HealthServer, type HealthServerOptions } from './health-server.ts';
