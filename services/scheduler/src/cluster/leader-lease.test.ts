import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { at } from '@loom/common';
import type { Redis } from 'ioredis';
import { LeaderLease, type LeaderLeaseOptions } from './leader-lease.js';
import { useRedis } from '@loom/testing';

const leases: LeaderLease[] = [];
let keyN = 0;

// Registered first, so it runs first: the leases stop while their connections are still up.
after(async () => {
  await Promise.all(leases.map((l) => l.stop()));
});
const server = useRedis();
const conn = (): Redis => server.connect();

/** A lease on its own connection, with keys private to the test, recording its events with times. */
function lease(holder: string, keys: { leaseKey: string; fenceKey: string }, opts: LeaderLeaseOptions = {}) {
  const redis = conn();
  const l = new LeaderLease(redis, holder, { ...keys, ...opts });
  const events: { type: 'elected' | 'deposed'; value: number | string; at: number }[] = [];
  l.on('elected', (t) => events.push({ type: 'elected', value: t, at: performance.now() }));
  l.on('deposed', (r) => events.push({ type: 'deposed', value: r, at: performance.now() }));
  leases.push(l);
  return { l, redis, events };
}

const freshKeys = () => ({ leaseKey: `t${++keyN}:lease`, fenceKey: `t${keyN}:fence` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST = { ttlMs: 1000, renewMs: 250 };

test('two leases compete: exactly one leader, stable across renewals, token from the fence counter', async () => {
  const keys = freshKeys();
  await conn().set(keys.fenceKey, 41);
  const a = lease('a', keys, FAST);
  const b = lease('b', keys, FAST);
  a.l.start();
  b.l.start();
  await sleep(FAST.ttlMs * 2.5); // several renewals and standby polls
  const leaders = [a, b].filter((x) => x.l.isLeader);
  assert.equal(leaders.length, 1);
  const [leader] = leaders;
  assert.deepEqual(
    leader!.events.map((e) => [e.type, e.value]),
    [['elected', 42]],
  );
  assert.equal(leader!.l.fencingToken, 42);
  const other = leader === a ? b : a;
  assert.deepEqual(other.events, []);
  assert.equal(other.l.fencingToken, undefined);
  assert.equal(await conn().get(keys.leaseKey), leader!.l.holderId);
});

test('a leader that cannot renew deposes itself before the standby is elected; take-over within ttl + renew (defaults)', async () => {
  const keys = freshKeys();
  const a = lease('a', keys); // defaults: ttl 3000, renew 1000
  a.l.start();
  await once(a.l, 'elected');
  const b = lease('b', keys);
  b.l.start();
  await sleep(200);
  const killedAt = performance.now();
  a.redis.disconnect(); // its renewals now fail: a crashed or partitioned leader
  await once(b.l, 'elected');
  const electedAt = performance.now();
  assert.ok(electedAt - killedAt < a.l.ttlMs + a.l.renewMs, `take-over took ${Math.round(electedAt - killedAt)} ms`);
  const deposed = a.events.find((e) => e.type === 'deposed');
  assert.equal(deposed?.value, 'expired');
  assert.ok(deposed!.at < at(b.events, 0).at, 'the old leader must stop before the new one starts');
  assert.equal(a.l.isLeader, false);
  assert.ok(b.l.fencingToken! > (at(a.events, 0).value as number));
});

test('stop() releases the lease: the standby takes over within one poll, far below the ttl', async () => {
  const keys = freshKeys();
  const opts = { ttlMs: 5000, renewMs: 200 };
  const a = lease('a', keys, opts);
  a.l.start();
  const [tokenA] = await once(a.l, 'elected');
  const b = lease('b', keys, opts);
  b.l.start();
  await sleep(300);
  assert.equal(b.l.isLeader, false);
  const stoppedAt = performance.now();
  await a.l.stop();
  const [tokenB] = await once(b.l, 'elected');
  assert.ok(performance.now() - stoppedAt < 1000, `hand-over took ${Math.round(performance.now() - stoppedAt)} ms`);
  assert.equal(tokenB, tokenA + 1);
  assert.deepEqual(
    a.events.map((e) => [e.type, e.value]),
    [
      ['elected', tokenA],
      ['deposed', 'stopped'],
    ],
  );
  assert.equal(await conn().get(keys.leaseKey), 'b');
});

test('a leader whose key was taken notices at its next renewal and is deposed; it does not delete the new holder', async () => {
  const keys = freshKeys();
  const a = lease('a', keys, FAST);
  a.l.start();
  await once(a.l, 'elected');
  const intruder = conn();
  await intruder.set(keys.leaseKey, 'intruder', 'PX', 60_000);
  const stolenAt = performance.now();
  const [reason] = await once(a.l, 'deposed');
  assert.equal(reason, 'lost');
  assert.ok(performance.now() - stolenAt < FAST.renewMs + 200);
  assert.equal(a.l.isLeader, false);
  await sleep(FAST.renewMs * 3);
  assert.equal(a.l.isLeader, false); // still a standby while the intruder holds the key
  await a.l.stop(); // compare-and-delete: leaves the intruder's key alone
  assert.equal(await intruder.get(keys.leaseKey), 'intruder');
});

test('a standby waits for the lease to lapse, not a whole extra poll', async () => {
  const keys = freshKeys();
  await conn().set(keys.leaseKey, 'ghost', 'PX', 600);
  const b = lease('b', keys, { ttlMs: 6000, renewMs: 2000 });
  const startedAt = performance.now();
  b.l.start();
  await once(b.l, 'elected');
  const took = performance.now() - startedAt;
  assert.ok(took >= 550 && took < 1200, `elected after ${Math.round(took)} ms`);
});

test('bad timing is refused', () => {
  const keys = freshKeys();
  assert.throws(() => new LeaderLease(conn(), 'x', { ...keys, ttlMs: 1000, renewMs: 900 }), /renewMs/);
  assert.throws(() => new LeaderLease(conn(), 'x', { ...keys, ttlMs: 1000, renewMs: 0 }), /renewMs/);
});
