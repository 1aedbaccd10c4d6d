// Structured JSON logs for Cloud Logging: `severity` (which GKE's agent maps to the entry's
// severity), `message`, and an ISO `time`, with secret-looking fields blanked.
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';
import { REDACT_PATHS, REDACTED } from './redaction.ts';

export type Logger = PinoLogger;

const SEVERITY: Readonly<Record<string, string>> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export function severityOf(level: string): string {
  return SEVERITY[level] ?? 'DEFAULT';
}

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  const settings = {
    level: options.level,
    messageKey: 'message',
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ severity: severityOf(label) }) },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
  // Synchronous writes to stdout: lines stay in order with a start-up failure written after them
  // (bin.ts), and one write(2) per line costs less than handing each to a libuv thread.
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/**
 * Node prints process warnings (MaxListenersExceededWarning from a library, deprecations) as
 * plain text on stderr, which breaks one-JSON-object-per-line logs; log them as JSON instead.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ warning: warning.name, detail: warning.message }, `process warning: ${warning.name}`));
}
