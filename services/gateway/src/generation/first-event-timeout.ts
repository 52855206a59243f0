/**
 * `source` unchanged, but `onTimeout` runs when its first item has not come within `ms`
 * (0 = never). The caller decides what a timeout means (cancel and answer 503); the stream itself
 * is ended by the caller's abort signal.
 */
export async function* firstEventTimeout<T>(
  source: AsyncIterable<T>,
  ms: number,
  onTimeout: () => void,
): AsyncGenerator<T> {
  let timer = ms > 0 ? setTimeout(onTimeout, ms) : undefined;
  try {
    for await (const item of source) {
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      yield item;
    }
  } finally {
    clearTimeout(timer);
  }
}
