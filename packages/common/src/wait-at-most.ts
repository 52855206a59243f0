/**
 * Waits for `p`, but at most `ms`: then it resolves anyway (a rejection of `p` within `ms` still rejects). For
 * Redis commands, which queue rather than fail while Redis is away, where a bounded wait beats an answer.
 */
export async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  try {
    await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
