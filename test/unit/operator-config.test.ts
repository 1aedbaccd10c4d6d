import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, defaultConfig, envName, loadConfig, schemaLeaves } from '../../operator/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

function configFile(yaml: string): string {
  const path = join(dir, `config-${fileCount++}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_CONFIG');
    return err;
  }
  assert.fail('the configuration was accepted');
}

const KMS_KEY = 'gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';

describe('when no file and no environment variables are given', () => {
  it('runs with the defaults: a local file root and a key file signer', () => {
    const config = loadConfig(undefined, {});
    assert.deepEqual(config, defaultConfig());
    assert.deepEqual(config.allowedPrefixes, ['file:///var/lib/slsa-ml/models/']);
    assert.equal(config.storage.fileRoot, '/var/lib/slsa-ml/models');
    assert.deepEqual(config.signer, { kind: 'key', keyPath: '/var/run/slsa-ml/signing/cosign.key' });
    assert.deepEqual(config.leaderElection, {
      enabled: true, namespace: 'slsa-ml-system', leaseName: 'slsa-ml-operator',
      leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2,
    });
  });

  it('hands out a fresh copy each time, so one caller cannot change another\'s defaults', () => {
    const a = defaultConfig();
    a.namespaces.push('x');
    assert.deepEqual(defaultConfig().namespaces, []);
  });
});

describe('when a config file is mounted', () => {
  it('merges its keys over the defaults', () => {
    const config = loadConfig(configFile(`
namespaces: [ml-team-a, ml-team-b]
allowedPrefixes: [gs://models-prod/trained/]
storage:
  gcs: { userProject: ml-prod }
  fileRoot: null
signer:
  kind: kms
  keyName: ${KMS_KEY}
builderId: https://slsa-ml.dev/operator/prod-eu
workers: 8
`), {});
    assert.deepEqual(config.namespaces, ['ml-team-a', 'ml-team-b']);
    assert.deepEqual(config.allowedPrefixes, ['gs://models-prod/trained/']);
    assert.deepEqual(config.storage, { gcs: { userProject: 'ml-prod' } });
    assert.deepEqual(config.signer, { kind: 'kms', keyName: KMS_KEY }, 'the key signer\'s keyPath does not leak into kms');
    assert.equal(config.workers, 8);
    assert.equal(config.digestConcurrency, 4);
    assert.equal(config.retry.budgetMs, 600_000);
  });

  it('treats an empty file as "all defaults"', () => {
    assert.deepEqual(loadConfig(configFile('# nothing set\n'), {}), defaultConfig());
  });

  it('fills a sigstore signer from the public-good defaults and a metadata-server token', () => {
    const config = loadConfig(configFile('signer: { kind: sigstore }\n'), {});
    assert.deepEqual(config.signer, {
      kind: 'sigstore',
      fulcioURL: 'https://fulcio.sigstore.dev',
      rekorURL: 'https://rekor.sigstore.dev',
      token: { kind: 'gce-metadata', audience: 'sigstore' },
    });
  });

  it('accepts a token file for a sigstore signer, dropping the metadata-server audience', () => {
    const config = loadConfig(configFile(`
signer:
  kind: sigstore
  fulcioURL: http://127.0.0.1:5555
  rekorURL: http://127.0.0.1:3000
  token: { kind: file, path: /var/run/sigstore/token }
`), {});
    assert.deepEqual(config.signer, {
      kind: 'sigstore', fulcioURL: 'http://127.0.0.1:5555', rekorURL: 'http://127.0.0.1:3000',
      token: { kind: 'file', path: '/var/run/sigstore/token' },
    });
  });

  it('refuses a misspelt key, naming its path, instead of silently ignoring it', () => {
    const err = refusal(() => loadConfig(configFile('leaderElection:\n  leaseDurationSecond: 30\n'), {}));
    assert.equal(err.field, 'leaderElection.leaseDurationSecond');
    assert.match(err.message, /unknown key/);
    assert.match(err.message, /leaseDurationSeconds/, 'lists the keys that are known there');
  });

  it('refuses storage.gcs.projectId (file or environment), naming storage.gcs.userProject: the old key was inert, the new one bills every request', () => {
    const fromFile = refusal(() => loadConfig(configFile('storage:\n  gcs: { projectId: ml-prod }\n'), {}));
    assert.equal(fromFile.field, 'storage.gcs.projectId');
    assert.match(fromFile.message, /replaced by storage\.gcs\.userProject .*billing/);
    const fromEnv = refusal(() => loadConfig(undefined, { SLSA_ML_STORAGE_GCS_PROJECT_ID: 'ml-prod' }));
    assert.match(fromEnv.message, /storage\.gcs\.projectId: replaced by storage\.gcs\.userProject .*\(from SLSA_ML_STORAGE_GCS_PROJECT_ID\)/);
    assert.deepEqual(loadConfig(undefined, { SLSA_ML_STORAGE_GCS_USER_PROJECT: 'ml-prod' }).storage.gcs, { userProject: 'ml-prod' });
  });

  it('refuses YAML that does not parse', () => {
    const path = configFile('workers: [1, 2\n');
    const err = refusal(() => loadConfig(path, {}));
    assert.equal(err.field, '');
    assert.match(err.message, /not valid YAML/);
    assert.ok(err.message.includes(path), 'names the file');
  });

  it('refuses a file that is not a mapping, and a file with two documents', () => {
    assert.match(refusal(() => loadConfig(configFile('- a\n- b\n'), {})).message, /must be a mapping/);
    assert.match(refusal(() => loadConfig(configFile('workers: 1\n---\nworkers: 2\n'), {})).message, /not valid YAML/);
  });

  it('refuses a key given twice', () => {
    assert.match(refusal(() => loadConfig(configFile('workers: 1\nworkers: 2\n'), {})).message, /not valid YAML/);
  });

  it('refuses a value of the wrong type, naming the field', () => {
    const cases: Array<[string, string]> = [
      ['http: { port: "8080" }\n', 'http.port'],
      ['namespaces: default\n', 'namespaces'],
      ['attestFailedRuns: "yes"\n', 'attestFailedRuns'],
      ['storage: gs://x\n', 'storage'],
      ['workers: 2.5\n', 'workers'],
    ];
    for (const [yaml, field] of cases) assert.equal(refusal(() => loadConfig(configFile(yaml), {})).field, field, yaml);
  });

  it('reports a file that cannot be read', () => {
    const err = refusal(() => loadConfig(join(dir, 'missing.yaml'), {}));
    assert.match(err.message, /cannot read/);
  });
});

describe('when SLSA_ML_* environment variables are set', () => {
  it('derives one variable per key, in upper snake case', () => {
    const names = schemaLeaves().map((leaf) => leaf.envName);
    for (const name of ['SLSA_ML_BUILDER_ID', 'SLSA_ML_NAMESPACES', 'SLSA_ML_ALLOWED_PREFIXES', 'SLSA_ML_SIGNER_KIND',
      'SLSA_ML_SIGNER_KEY_PATH', 'SLSA_ML_SIGNER_KEY_NAME', 'SLSA_ML_STORAGE_GCS_API_ENDPOINT', 'SLSA_ML_LEADER_ELECTION_ENABLED',
      'SLSA_ML_HTTP_PORT', 'SLSA_ML_WORKERS', 'SLSA_ML_LOG_LEVEL', 'SLSA_ML_SIGNER_FULCIO_URL', 'SLSA_ML_SIGNER_TOKEN_AUDIENCE']) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(envName(['signer', 'rekorURL']), 'SLSA_ML_SIGNER_REKOR_URL');
  });

  it('overrides defaults and the file, typed by the key', () => {
    const path = configFile('builderId: https://from-file.example/\nworkers: 8\nnamespaces: [from-file]\n');
    const config = loadConfig(path, {
      SLSA_ML_BUILDER_ID: 'https://slsa-ml.dev/operator/from-env',
      SLSA_ML_NAMESPACES: 'a, b',
      SLSA_ML_ALLOWED_PREFIXES: 'gs://bucket-a/,gs://bucket-b/models/',
      SLSA_ML_STORAGE_GCS_API_ENDPOINT: 'http://127.0.0.1:4443',
      SLSA_ML_STORAGE_FILE_ROOT: '',
      SLSA_ML_LEADER_ELECTION_ENABLED: 'false',
      SLSA_ML_HTTP_PORT: '9090',
      SLSA_ML_LOG_LEVEL: 'debug',
    });
    assert.equal(config.builderId, 'https://slsa-ml.dev/operator/from-env');
    assert.equal(config.workers, 8, 'the file still wins over defaults');
    assert.deepEqual(config.namespaces, ['a', 'b']);
    assert.deepEqual(config.allowedPrefixes, ['gs://bucket-a/', 'gs://bucket-b/models/']);
    assert.deepEqual(config.storage, { gcs: { apiEndpoint: 'http://127.0.0.1:4443' } }, 'an empty variable clears fileRoot');
    assert.equal(config.leaderElection.enabled, false);
    assert.equal(config.http.port, 9090);
    assert.equal(config.logLevel, 'debug');
  });

  it('lets an empty list variable mean "all namespaces"', () => {
    const config = loadConfig(configFile('namespaces: [a]\n'), { SLSA_ML_NAMESPACES: '' });
    assert.deepEqual(config.namespaces, []);
  });

  it('switches the signer kind, replacing the file\'s signer section', () => {
    const path = configFile(`signer: { kind: kms, keyName: "${KMS_KEY}" }\n`);
    const config = loadConfig(path, { SLSA_ML_SIGNER_KIND: 'key', SLSA_ML_SIGNER_KEY_PATH: '/keys/cosign.key' });
    assert.deepEqual(config.signer, { kind: 'key', keyPath: '/keys/cosign.key' });
    const kms = loadConfig(undefined, { SLSA_ML_SIGNER_KIND: 'kms', SLSA_ML_SIGNER_KEY_NAME: KMS_KEY, SLSA_ML_SIGNER_API_ENDPOINT: 'localhost:9443' });
    assert.deepEqual(kms.signer, { kind: 'kms', keyName: KMS_KEY, apiEndpoint: 'localhost:9443' });
  });

  it('refuses an unparsable value, naming the variable', () => {
    const err = refusal(() => loadConfig(undefined, { SLSA_ML_WORKERS: 'four' }));
    assert.equal(err.field, 'workers');
    assert.match(err.message, /SLSA_ML_WORKERS/);
    assert.equal(refusal(() => loadConfig(undefined, { SLSA_ML_FINALIZER_ENABLED: 'yes' })).field, 'finalizer.enabled');
  });

  it('leaves other SLSA_ML_ variables alone (tools share the prefix)', () => {
    assert.deepEqual(loadConfig(undefined, { SLSA_ML_ENV: '/tmp/x', SLSA_ML_TEST_BUCKET: 'b' }), defaultConfig());
  });
});

describe('when a value is unusable', () => {
  const cases: Array<{ name: string; env: NodeJS.ProcessEnv; field: string; reason: RegExp }> = [
    { name: 'a prefix without a trailing slash', env: { SLSA_ML_ALLOWED_PREFIXES: 'gs://b/models' }, field: 'allowedPrefixes', reason: /end with "\/"/ },
    { name: 'a prefix of another scheme', env: { SLSA_ML_ALLOWED_PREFIXES: 'https://b/models/' }, field: 'allowedPrefixes', reason: /gs:\/\/ or file:\/\/\// },
    { name: 'a prefix with a bad bucket', env: { SLSA_ML_ALLOWED_PREFIXES: 'gs://B_/m/' }, field: 'allowedPrefixes', reason: /bucket/ },
    { name: 'a prefix with ".."', env: { SLSA_ML_ALLOWED_PREFIXES: 'gs://bucket/a/../b/' }, field: 'allowedPrefixes', reason: /\.\./ },
    { name: 'no prefix at all', env: { SLSA_ML_ALLOWED_PREFIXES: '' }, field: 'allowedPrefixes', reason: /at least one/ },
    { name: 'the same prefix twice', env: { SLSA_ML_ALLOWED_PREFIXES: 'gs://bucket/,gs://bucket/' }, field: 'allowedPrefixes', reason: /twice/ },
    { name: 'a file prefix outside the file root', env: { SLSA_ML_ALLOWED_PREFIXES: 'file:///srv/models/' }, field: 'allowedPrefixes', reason: /outside storage.fileRoot/ },
    { name: 'a KMS key without a version', env: { SLSA_ML_SIGNER_KIND: 'kms', SLSA_ML_SIGNER_KEY_NAME: 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k' }, field: 'signer.keyName', reason: /cryptoKeyVersions/ },
    { name: 'a KMS signer without a key', env: { SLSA_ML_SIGNER_KIND: 'kms' }, field: 'signer.keyName', reason: /required/ },
    { name: 'an unknown signer kind', env: { SLSA_ML_SIGNER_KIND: 'vault' }, field: 'signer.kind', reason: /one of key, kms, sigstore/ },
    { name: 'a key for another signer kind', env: { SLSA_ML_SIGNER_FULCIO_URL: 'https://fulcio.example' }, field: 'signer.fulcioURL', reason: /does not apply/ },
    { name: 'a Fulcio URL that is not a URL', env: { SLSA_ML_SIGNER_KIND: 'sigstore', SLSA_ML_SIGNER_FULCIO_URL: 'fulcio' }, field: 'signer.fulcioURL', reason: /URL/ },
    { name: 'a token path for a metadata-server token', env: { SLSA_ML_SIGNER_KIND: 'sigstore', SLSA_ML_SIGNER_TOKEN_PATH: '/t' }, field: 'signer.token.path', reason: /does not apply/ },
    { name: 'a GCS endpoint that is not a URL', env: { SLSA_ML_STORAGE_GCS_API_ENDPOINT: 'http://' }, field: 'storage.gcs.apiEndpoint', reason: /URL/ },
    { name: 'a relative file root', env: { SLSA_ML_STORAGE_FILE_ROOT: 'models' }, field: 'storage.fileRoot', reason: /absolute/ },
    { name: 'a builder id that is not a URI', env: { SLSA_ML_BUILDER_ID: 'my operator' }, field: 'builderId', reason: /URI/ },
    { name: 'zero workers', env: { SLSA_ML_WORKERS: '0' }, field: 'workers', reason: /between 1 and/ },
    { name: 'negative digest concurrency', env: { SLSA_ML_DIGEST_CONCURRENCY: '-2' }, field: 'digestConcurrency', reason: /between 1 and/ },
    { name: 'a port out of range', env: { SLSA_ML_HTTP_PORT: '70000' }, field: 'http.port', reason: /between 1 and 65535/ },
    { name: 'an unknown log level', env: { SLSA_ML_LOG_LEVEL: 'verbose' }, field: 'logLevel', reason: /one of trace/ },
    { name: 'a namespace that is not a DNS label', env: { SLSA_ML_NAMESPACES: 'ML_Team' }, field: 'namespaces', reason: /DNS label/ },
    { name: 'a broken label selector', env: { SLSA_ML_LABEL_SELECTOR: 'team in (a,' }, field: 'labelSelector', reason: /label selector/ },
    { name: 'a retry cap below the first delay', env: { SLSA_ML_RETRY_MAX_DELAY_MS: '100' }, field: 'retry.maxDelayMs', reason: /initialDelayMs/ },
    { name: 'a renew deadline not below the lease duration', env: { SLSA_ML_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: '15' }, field: 'leaderElection.renewDeadlineSeconds', reason: /below leaderElection.leaseDurationSeconds/ },
    { name: 'a retry period too close to the renew deadline', env: { SLSA_ML_LEADER_ELECTION_RETRY_PERIOD_SECONDS: '9' }, field: 'leaderElection.renewDeadlineSeconds', reason: /1.2/ },
    { name: 'a lease name that is not a DNS subdomain', env: { SLSA_ML_LEADER_ELECTION_LEASE_NAME: 'Operator Lease' }, field: 'leaderElection.leaseName', reason: /DNS subdomain/ },
    { name: 'an empty builder id', env: { SLSA_ML_BUILDER_ID: '' }, field: 'builderId', reason: /required/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming the field and the reason`, () => {
      const err = refusal(() => loadConfig(undefined, c.env));
      assert.equal(err.field, c.field);
      assert.match(err.reason, c.reason);
      assert.ok(err.message.includes(c.field));
    });
  }

  it('accepts the label selector forms Kubernetes accepts', () => {
    const selector = 'app.kubernetes.io/part-of=training,!skip,tier in (gpu, tpu),env notin (dev),team!=x,slsa-ml.dev/watch, gen>2';
    assert.equal(loadConfig(undefined, { SLSA_ML_LABEL_SELECTOR: selector }).labelSelector, selector);
  });
});
