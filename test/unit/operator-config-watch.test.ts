import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig, watchConfig, type OperatorConfig } from '../../operator/config/index.ts';

/**
 * A directory laid out as the kubelet lays out a ConfigMap volume: the data in a timestamped
 * directory, `..data` a symlink to it, `config.yaml` a symlink through `..data`. An update
 * writes a new timestamped directory and renames a temporary symlink over `..data`.
 */
class ConfigMapVolume {
  readonly dir = mkdtempSync(join(tmpdir(), 'slsa-ml-configmap-'));
  readonly path = join(this.dir, 'config.yaml');
  #generation = 0;

  constructor(yaml: string) {
    const first = this.#writeVersion(yaml);
    symlinkSync(first, join(this.dir, '..data'));
    symlinkSync('..data/config.yaml', this.path);
  }

  update(yaml: string): void {
    const next = this.#writeVersion(yaml);
    symlinkSync(next, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  #writeVersion(yaml: string): string {
    const name = `..2026_11_25_10_00_0${this.#generation++}.${process.pid}`;
    mkdirSync(join(this.dir, name));
    writeFileSync(join(this.dir, name, 'config.yaml'), yaml);
    return name;
  }
}

class Recorder {
  readonly changes: OperatorConfig[] = [];
  readonly errors: Error[] = [];
  onChange = (config: OperatorConfig): void => void this.changes.push(config);
  onError = (err: Error): void => void this.errors.push(err);

  async until(what: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!what()) {
      if (Date.now() > deadline) assert.fail(`timed out; changes=${this.changes.length} errors=${this.errors.map(String).join('; ')}`);
      await sleep(20);
    }
  }
}

describe('when the mounted ConfigMap changes', () => {
  let volume: ConfigMapVolume;
  let stop: () => void = () => undefined;
  let rec: Recorder;

  beforeEach(() => {
    volume = new ConfigMapVolume('workers: 2\n');
    rec = new Recorder();
    stop = watchConfig(volume.path, {}, rec.onChange, rec.onError);
  });
  afterEach(() => {
    stop();
    volume.remove();
  });

  it('delivers the new config once, after the ..data symlink is swapped', async () => {
    volume.update('workers: 6\n');
    await rec.until(() => rec.changes.length > 0);
    await sleep(400); // a burst of directory events must not deliver it twice
    assert.equal(rec.changes.length, 1);
    assert.equal(rec.changes[0]?.workers, 6);
    assert.deepEqual(rec.errors, []);
  });

  it('applies environment overrides on top of the reloaded file', async () => {
    stop();
    stop = watchConfig(volume.path, { SLSA_ML_LOG_LEVEL: 'debug' }, rec.onChange, rec.onError);
    volume.update('workers: 3\n');
    await rec.until(() => rec.changes.length > 0);
    assert.equal(rec.changes[0]?.workers, 3);
    assert.equal(rec.changes[0]?.logLevel, 'debug');
  });

  it('stays quiet when the new file means the same config', async () => {
    volume.update('# reformatted\nworkers: 2\n');
    volume.update('workers: 2 # still two\n');
    await sleep(600);
    assert.deepEqual(rec.changes, []);
    assert.deepEqual(rec.errors, []);
  });

  it('keeps the old config and reports the error when the new file is invalid, then recovers', async () => {
    volume.update('workers: 2\nworkerz: 3\n');
    await rec.until(() => rec.errors.length > 0);
    const err = rec.errors[0];
    assert.ok(err instanceof ConfigError);
    assert.equal(err.field, 'workerz');
    assert.equal(rec.changes.length, 0, 'the old config stays');
    volume.update('workers: 5\n');
    await rec.until(() => rec.changes.length > 0);
    assert.equal(rec.changes[0]?.workers, 5);
  });

  it('delivers a change made before watching started, when given the config the process runs with', async () => {
    stop();
    const running = loadConfig(volume.path, {});
    volume.update('workers: 9\n'); // lands between loading and watching
    stop = watchConfig(volume.path, {}, rec.onChange, rec.onError, running);
    volume.update('workers: 9 # touched\n');
    await rec.until(() => rec.changes.length > 0);
    assert.equal(rec.changes[0]?.workers, 9);
  });

  it('stops reporting once stopped', async () => {
    stop();
    volume.update('workers: 7\n');
    await sleep(500);
    assert.deepEqual(rec.changes, []);
  });
});
