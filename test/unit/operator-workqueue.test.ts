import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue, backoffDelay } from '../../operator/queue/index.ts';

const policy = { initialDelayMs: 5, maxDelayMs: 40 };

describe('the work queue', () => {
  it('never hands one key to two workers at once, and runs a key added while in flight again afterwards', async () => {
    const queue = new WorkQueue(policy);
    let running = 0;
    let maxConcurrentForKey = 0;
    let runs = 0;
    const done = queue.run(4, async () => {
      running++;
      maxConcurrentForKey = Math.max(maxConcurrentForKey, running);
      runs++;
      if (runs === 1) queue.add('ns/a'); // re-added while in flight
      await sleep(20);
      running--;
      return 'done';
    });
    queue.add('ns/a');
    queue.add('ns/a'); // already queued: no duplicate
    await sleep(120);
    queue.shutDown();
    await done;
    assert.equal(maxConcurrentForKey, 1);
    assert.equal(runs, 2);
  });

  it('processes different keys in parallel up to the worker count', async () => {
    const queue = new WorkQueue(policy);
    let running = 0;
    let peak = 0;
    const done = queue.run(3, async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(30);
      running--;
      return 'done';
    });
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) queue.add(k);
    await sleep(150);
    queue.shutDown();
    await done;
    assert.equal(peak, 3);
  });

  it('retries a failing key with growing delays and forgets its failures after a success', async () => {
    const queue = new WorkQueue(policy);
    const attempts: number[] = [];
    const done = queue.run(1, () => {
      attempts.push(Date.now());
      return Promise.resolve(attempts.length < 4 ? 'retry' : 'done');
    });
    queue.add('k');
    await sleep(250);
    queue.shutDown();
    await done;
    assert.equal(attempts.length, 4);
    assert.equal(queue.failures('k'), 0);
  });

  it('keeps its workers alive when a handler throws', async () => {
    const errors: unknown[] = [];
    const queue = new WorkQueue(policy, { onError: (_k, err) => errors.push(err) });
    let calls = 0;
    const done = queue.run(1, () => {
      calls++;
      if (calls === 1) throw new Error('bug');
      return Promise.resolve('done');
    });
    queue.add('k');
    await sleep(100);
    queue.shutDown();
    await done;
    assert.equal(errors.length, 1);
    assert.equal(calls, 2);
  });

  it('does not let a new event for a key cut its backoff short', async () => {
    const queue = new WorkQueue({ initialDelayMs: 300, maxDelayMs: 300 });
    const attempts: number[] = [];
    const done = queue.run(1, () => {
      attempts.push(Date.now());
      return Promise.resolve(attempts.length < 2 ? 'retry' : 'done');
    });
    queue.add('k');
    await sleep(50);
    for (let i = 0; i < 5; i++) queue.add('k'); // watch events and a relist while it backs off
    await sleep(100);
    assert.equal(attempts.length, 1, 'still backing off');
    await sleep(400);
    queue.shutDown();
    await done;
    assert.equal(attempts.length, 2);
    assert.ok((attempts[1] ?? 0) - (attempts[0] ?? 0) >= 200, 'the second attempt waited for its backoff');
  });

  it('takes what the watch reports now before the backlog a list replayed, and moves a backlog key up when an event names it', async () => {
    const queue = new WorkQueue(policy);
    const order: string[] = [];
    for (let i = 0; i < 300; i++) queue.add(`old/${i}`, 'backlog');
    queue.add('old/250', 'backlog'); // queued once
    assert.equal(queue.depth, 300);
    const done = queue.run(1, async (key) => {
      order.push(key);
      if (key === 'old/0') {
        queue.add('new/completed', 'now');
        queue.add('old/299', 'now');
      }
      await sleep(0);
      return 'done';
    });
    while (order.length < 301) await sleep(5);
    queue.shutDown();
    await done;
    // The first backlog key was in flight; right after it, the new completion and the key an event moved up.
    assert.deepEqual(order.slice(0, 3), ['old/0', 'new/completed', 'old/299']);
    assert.equal(order.length, 301, 'every key once: the moved key\'s backlog entry was skipped');
    assert.equal(new Set(order).size, 301);
  });

  it('caps backoff at the maximum delay', () => {
    assert.equal(backoffDelay({ initialDelayMs: 100, maxDelayMs: 1000 }, 1, () => 0.5), 100);
    assert.equal(backoffDelay({ initialDelayMs: 100, maxDelayMs: 1000 }, 3, () => 0.5), 400);
    assert.equal(backoffDelay({ initialDelayMs: 100, maxDelayMs: 1000 }, 30, () => 0.5), 1000);
  });
});
