import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, createMetrics, FAILURE_REASONS, type Logger } from '../../operator/observability/index.ts';

function capture(level = 'trace'): { log: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const log = createLogger({ level, destination: stream });
  const text = (): string => {
    log.flush();
    return chunks.join('');
  };
  return { log, text, lines: () => text().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('when the operator logs', () => {
  it('writes one JSON object per line with a Cloud Logging severity for each level', () => {
    const { log, lines } = capture();
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    assert.deepEqual(lines().map((l) => [l.message, l.severity]), [
      ['t', 'DEBUG'], ['d', 'DEBUG'], ['i', 'INFO'], ['w', 'WARNING'], ['e', 'ERROR'], ['f', 'CRITICAL'],
    ]);
  });

  it('puts the text under "message" and an ISO-8601 "time"', () => {
    const { log, lines } = capture();
    log.info({ taskRun: 'ns/train-1' }, 'attested');
    const [line] = lines();
    assert.equal(line?.message, 'attested');
    assert.equal(line?.taskRun, 'ns/train-1');
    assert.equal(typeof line?.time, 'string');
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(line?.level, undefined, 'severity replaces the numeric level');
  });

  it('drops lines below the configured level', () => {
    const { log, lines } = capture('warn');
    log.info('hidden');
    log.warn('shown');
    assert.deepEqual(lines().map((l) => l.message), ['shown']);
  });

  it('never writes the value of a secret-looking field', () => {
    const { log, text, lines } = capture();
    const secrets = ['s3cr3t-token', 'Bearer abc.def.ghi', 'pem-material', 'hunter2', 'eyJ-identity', 'ya29.access', 'list-token'];
    log.info({
      token: secrets[0],
      request: { headers: { authorization: secrets[1], accept: 'application/json' } },
      signer: { kind: 'key', keyPem: secrets[2] },
      db: { password: secrets[3] },
      sigstore: { identityToken: secrets[4] },
      gcp: { credentials: { accessToken: secrets[5] } },
      items: [{ token: secrets[6] }],
    }, 'configured');
    log.child({ identityToken: 'child-binding-secret' }).info('child');
    const out = text();
    for (const secret of [...secrets, 'child-binding-secret']) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
    const [line] = lines();
    assert.deepEqual(line?.request, { headers: { authorization: '[REDACTED]', accept: 'application/json' } });
    assert.deepEqual(line?.signer, { kind: 'key', keyPem: '[REDACTED]' }, 'the rest of the object stays readable');
  });
});

describe('when metrics are exposed', () => {
  it('names every operator metric with its labels, on a registry of its own', async () => {
    const metrics = createMetrics();
    metrics.attestations.inc('signed');
    metrics.attestations.inc('signed');
    metrics.attestations.inc('failed');
    metrics.failures.inc('DIGEST_MISMATCH');
    metrics.retries.inc();
    metrics.completionToStored.observe(3.2);
    metrics.queueDepth.set(7);
    metrics.leader.set(true);
    metrics.watchRestarts.inc();
    const text = await metrics.registry.metrics();
    assert.match(text, /^slsa_ml_attestations_total\{outcome="signed"\} 2$/m);
    assert.match(text, /^slsa_ml_attestations_total\{outcome="failed"\} 1$/m);
    assert.match(text, /^slsa_ml_attestations_total\{outcome="skipped"\} 0$/m);
    assert.match(text, /^slsa_ml_failures_total\{reason="DIGEST_MISMATCH"\} 1$/m);
    assert.match(text, /^slsa_ml_failures_total\{reason="SIGNING_FAILED"\} 0$/m, 'every reason exists from the start');
    assert.match(text, /^slsa_ml_retries_total 1$/m);
    assert.match(text, /^slsa_ml_completion_to_stored_seconds_bucket\{le="0.05"\} 0$/m);
    assert.match(text, /^slsa_ml_completion_to_stored_seconds_bucket\{le="5"\} 1$/m);
    assert.match(text, /^slsa_ml_completion_to_stored_seconds_bucket\{le="300"\} 1$/m);
    assert.match(text, /^slsa_ml_completion_to_stored_seconds_count 1$/m);
    assert.match(text, /^slsa_ml_queue_depth 7$/m);
    assert.match(text, /^slsa_ml_leader 1$/m);
    assert.match(text, /^slsa_ml_watch_restarts_total 1$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m, 'default process metrics are included');
    assert.doesNotMatch(await createMetrics().registry.metrics(), /slsa_ml_queue_depth 7/, 'registries are not shared');
  });

  it('keeps failure reasons to the fixed set, so label cardinality stays bounded', async () => {
    const metrics = createMetrics();
    metrics.failures.inc('gs://bucket/some/free text');
    const text = await metrics.registry.metrics();
    assert.match(text, /^slsa_ml_failures_total\{reason="INTERNAL"\} 1$/m);
    const reasons = [...text.matchAll(/^slsa_ml_failures_total\{reason="([^"]+)"\}/gm)].map((m) => m[1]);
    assert.deepEqual(reasons.sort(), [...FAILURE_REASONS].sort());
  });

  it('names the running build in slsa_ml_build_info, always 1: the package version and the Node.js version', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const text = await createMetrics().registry.metrics();
    assert.match(text, /^# TYPE slsa_ml_build_info gauge$/m);
    const series = [...text.matchAll(/^slsa_ml_build_info(\{.*\}) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(series, [[`{version="${version}",nodejs="${process.version}"}`, '1']]);
  });

  it('reports leadership as 0 until this replica leads, and 0 again after', async () => {
    const metrics = createMetrics();
    assert.match(await metrics.registry.metrics(), /^slsa_ml_leader 0$/m);
    metrics.leader.set(true);
    metrics.leader.set(false);
    assert.match(await metrics.registry.metrics(), /^slsa_ml_leader 0$/m);
  });
});
