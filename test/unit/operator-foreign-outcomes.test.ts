import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForeignOutcomes, type ForeignDecision } from '../../operator/reconcile/foreign-outcomes.ts';

function memory(maxRemembered = 3): { foreign: ForeignOutcomes; counted: ForeignDecision[]; summaries: Array<{ outcomes: number; installations: string[]; namespaces: string[] }>; clock: { now: number } } {
  const counted: ForeignDecision[] = [];
  const summaries: Array<{ outcomes: number; installations: string[]; namespaces: string[] }> = [];
  const clock = { now: 0 };
  const foreign = new ForeignOutcomes({ maxRemembered, summaryEveryMs: 60_000, count: (d) => counted.push(d), summary: (s) => summaries.push(s), now: () => clock.now });
  return { foreign, counted, summaries, clock };
}

describe('outcomes sealed by another installation', () => {
  it('remembers a seal it left so that it is not judged again, and forgets the oldest beyond its bound', () => {
    const { foreign } = memory(2);
    foreign.decided('left', 'a', 'v2.staging.x', 'staging', 'ns');
    assert.equal(foreign.judged('a', 'v2.staging.x'), true);
    assert.equal(foreign.judged('a', 'v2.staging.y'), false, 'another seal on the same run is judged again');
    foreign.decided('agreed', 'b', 'v2.staging.x', 'staging', 'ns');
    foreign.decided('left', 'c', 'v2.staging.x', 'staging', 'ns');
    assert.equal(foreign.judged('a', 'v2.staging.x'), false, 'the oldest is forgotten');
    assert.equal(foreign.judged('c', 'v2.staging.x'), true);
  });

  it('re-seals a run once: after that, a seal naming this installation again is only left', () => {
    const { foreign } = memory();
    assert.equal(foreign.resealedBefore('a'), false);
    foreign.decided('resealed', 'a', 'v2.prod.old', 'prod', 'ns');
    assert.equal(foreign.resealedBefore('a'), true);
    foreign.decided('overruled', 'a', 'v2.prod.other', 'prod', 'ns');
    assert.equal(foreign.resealedBefore('a'), true, 'an overrule does not reset it');
    assert.equal(foreign.judged('a', 'v2.prod.other'), false, 'what it overruled is not remembered as left');
  });

  it('counts every decision and says so at once, then at most once a minute with what came meanwhile', () => {
    const { foreign, counted, summaries, clock } = memory(100);
    foreign.decided('left', 'a', 's', 'staging', 'team-a');
    assert.equal(summaries.length, 1);
    for (let i = 0; i < 5; i++) foreign.decided('agreed', `u${i}`, 's', i % 2 === 0 ? 'staging' : 'canary', 'team-b');
    assert.equal(summaries.length, 1, 'no second line within the minute');
    clock.now = 61_000;
    foreign.decided('overruled', 'z', 's', 'staging', 'team-c');
    assert.equal(summaries.length, 2);
    assert.deepEqual({ ...summaries[1], seconds: undefined }, { outcomes: 6, installations: ['canary', 'staging'], namespaces: ['team-b', 'team-c'], seconds: undefined });
    assert.deepEqual(counted, ['left', 'agreed', 'agreed', 'agreed', 'agreed', 'agreed', 'overruled']);
  });
});
