// Calls to the gateway's API from the page: the API key (when the gateway wants one) goes in an
// Authorization header on every call; a 401 asks the user for a key.

const KEY_STORAGE = 'loom.apiKey';

/** An API error in OpenAI's shape ({error: {message, type, param, code}}), with the HTTP status. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.param = error?.param ?? null;
    this.code = error?.code ?? null;
  }
}

export const apiKey = {
  get: () => localStorage.getItem(KEY_STORAGE) ?? '',
  set: (key) => (key ? localStorage.setItem(KEY_STORAGE, key) : localStorage.removeItem(KEY_STORAGE)),
};

/** Listeners told when a call was refused for want of a (valid) key. */
const authListeners = new Set();
export const onAuthRequired = (fn) => authListeners.add(fn);

function headers(json) {
  /** @type {Record<string, string>} */
  const h = {};
  if (json) h['content-type'] = 'application/json';
  const key = apiKey.get();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

async function check(res) {
  if (res.ok) return res;
  let error;
  try {
    error = (await res.json()).error;
  } catch {
    error = undefined;
  }
  const err = new ApiError(res.status, error);
  if (res.status === 401) for (const fn of authListeners) fn(err);
  throw err;
}

/** GET a JSON endpoint. */
export async function getJson(path, signal) {
  const res = await check(await fetch(path, { headers: headers(false), signal, cache: 'no-store' }));
  return res.json();
}

/**
 * POST a streaming request and yield each SSE `data:` payload parsed as JSON, until `[DONE]`.
 * An error sent in-band after the stream began (`data: {"error": ...}`) is thrown as an ApiError.
 */
export async function* streamJson(path, body, signal) {
  const res = await check(
    await fetch(path, { method: 'POST', headers: headers(true), body: JSON.stringify(body), signal }),
  );
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (!data) continue; // a keep-alive comment
      if (data === '[DONE]') return;
      const parsed = JSON.parse(data);
      if (parsed.error) throw new ApiError(500, parsed.error);
      yield parsed;
    }
  }
}
