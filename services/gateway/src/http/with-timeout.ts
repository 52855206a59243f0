/**
 * `p`, or a rejection after `ms`. For reads from Redis, whose commands queue (not fail) while it is
 * down: an endpoint must answer 503 in bounded time rather than hang.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
