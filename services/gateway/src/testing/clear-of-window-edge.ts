import { createRedis } from '@loom/common';

/**
 * Rate limits count in fixed one-minute windows of Redis's clock. A test that counts requests
 * calls this first: when fewer than `marginS` seconds are left in the current window, it waits
 * for the next one, so the whole test runs inside one window and its counts are exact.
 */
export async function clearOfWindowEdge(redisUrl: string, marginS = 15): Promise<void> {
  const r = createRedis(redisUrl, 'loom-test-clock');
  try {
    const [s, us] = (await r.time()) as [string | number, string | number];
    const intoMinuteMs = (Number(s) % 60) * 1000 + Math.floor(Number(us) / 1000);
    const leftMs = 60_000 - intoMinuteMs;
    if (leftMs < marginS * 1000) await new Promise((res) => setTimeout(res, leftMs + 100));
  } finally {
    r.disconnect();
  }
}
