import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatStorageUri, parseStorageUri, StorageError } from '../../src/storage/index.ts';

const invalidUri = (e: unknown): boolean => e instanceof StorageError && e.code === 'INVALID_URI' && !e.retryable;

describe('when a gs:// URI is parsed', () => {
  it('splits bucket and object name, keeping the name literal', () => {
    assert.deepEqual(parseStorageUri('gs://models/m/v3/pytorch_model.pth'), { scheme: 'gs', bucket: 'models', key: 'm/v3/pytorch_model.pth' });
    assert.deepEqual(parseStorageUri('gs://models/m/saved_model/'), { scheme: 'gs', bucket: 'models', key: 'm/saved_model/' });
    assert.deepEqual(parseStorageUri('gs://my.bucket_1/a%20b'), { scheme: 'gs', bucket: 'my.bucket_1', key: 'a%20b' });
    assert.deepEqual(parseStorageUri('gs://models'), { scheme: 'gs', bucket: 'models', key: '' });
    assert.deepEqual(parseStorageUri('gs://models/'), { scheme: 'gs', bucket: 'models', key: '' });
  });

  it('reads a trailing #generation as gsutil does', () => {
    assert.deepEqual(parseStorageUri('gs://models/w.bin#1712345678901234'), { scheme: 'gs', bucket: 'models', key: 'w.bin', generation: '1712345678901234' });
    assert.deepEqual(parseStorageUri('gs://models/w.bin#v2'), { scheme: 'gs', bucket: 'models', key: 'w.bin#v2' });
    assert.equal(formatStorageUri({ scheme: 'gs', bucket: 'models', key: 'w.bin', generation: '7' }), 'gs://models/w.bin#7');
  });

  it('refuses bucket names GCS would refuse', () => {
    for (const uri of ['gs:///k', 'gs://ab/k', 'gs://Models/k', 'gs://-models/k', 'gs://models-/k', 'gs://a..b/k', 'gs://192.168.1.1/k',
      'gs://googbucket/k', 'gs://my-google-bucket/k', `gs://${'a'.repeat(64)}/k`, 'gs://mo dels/k']) {
      assert.throws(() => parseStorageUri(uri), invalidUri, uri);
    }
  });

  it('refuses object names with "." or ".." segments, line breaks, or over 1024 bytes', () => {
    for (const uri of ['gs://models/a/../b', 'gs://models/./a', 'gs://models/a/..', 'gs://models/a\nb', `gs://models/${'é'.repeat(513)}`, 'gs://models#12']) {
      assert.throws(() => parseStorageUri(uri), invalidUri, uri);
    }
    assert.equal(parseStorageUri('gs://models/a/..b/.c').scheme, 'gs');
  });
});

describe('when a file:// URI is parsed', () => {
  it('gives the absolute path, decoding percent-escapes, keeping a trailing slash', () => {
    assert.deepEqual(parseStorageUri('file:///srv/models/m.pth'), { scheme: 'file', path: '/srv/models/m.pth' });
    assert.deepEqual(parseStorageUri('file:///srv/my%20model/'), { scheme: 'file', path: '/srv/my model/' });
    assert.deepEqual(parseStorageUri('file:///'), { scheme: 'file', path: '/' });
  });

  it('round-trips names with spaces, "#", "?", "%" and non-ASCII', () => {
    const path = '/srv/a b/#1?x%y/é😀';
    const uri = formatStorageUri({ scheme: 'file', path });
    assert.deepEqual(parseStorageUri(uri), { scheme: 'file', path });
  });

  it('refuses ".." and "." segments, raw or percent-encoded, instead of resolving them', () => {
    for (const uri of ['file:///srv/../etc/passwd', 'file:///srv/%2e%2e/etc', 'file:///srv/./x', 'file:///srv/%2E/x', 'file:///srv/..']) {
      assert.throws(() => parseStorageUri(uri), invalidUri, uri);
    }
  });

  it('refuses hosts, relative paths, empty segments, queries, fragments and bad escapes', () => {
    for (const uri of ['file://host/x', 'file:relative', 'file:///a//b', 'file:///a?x=1', 'file:///a#frag', 'file:///a%zz', 'file:///a%2Fb', 'file:///a%00b']) {
      assert.throws(() => parseStorageUri(uri), invalidUri, uri);
    }
  });

  it('refuses other schemes', () => {
    for (const uri of ['s3://b/k', 'https://storage.googleapis.com/b/k', '/abs/path', '']) {
      assert.throws(() => parseStorageUri(uri), invalidUri, uri);
    }
  });
});
