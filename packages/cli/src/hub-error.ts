/** What a request to the Hub was for, so an error can say what to check. */
export interface HubRequestContext {
  endpoint: string;
  repo: string;
  revision: string;
  file?: string;
  tokenGiven: boolean;
}

/** Codes of a fetch failure that mean the host cannot be reached at all (vs. an HTTP answer). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The system error code under a fetch() TypeError ('fetch failed' carries it in `cause`). */
export function networkCode(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  ) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** True when `err` is a connection failure rather than a Hub answer (so a cached copy may stand in). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof HubError ? err.unreachable : UNREACHABLE.has(networkCode(err) ?? '');
}

/** An error from talking to the Hub whose message says what to do about it. */
export class HubError extends Error {
  readonly status?: number;
  /** The Hub could not be reached at all: a cached copy may stand in. */
  readonly unreachable: boolean;
  /** Worth another try (a cut connection, a short or corrupt body, a 5xx); 4xx answers are not. */
  readonly retryable: boolean;

  constructor(message: string, o: { status?: number; unreachable?: boolean; retryable?: boolean } = {}) {
    super(message);
    this.name = 'HubError';
    this.status = o.status;
    this.unreachable = o.unreachable ?? false;
    this.retryable = o.retryable ?? false;
  }
}

/** Turn an HTTP status or a fetch failure into a HubError that tells the user what to do. */
export function hubError(ctx: HubRequestContext, failure: { status: number } | { cause: unknown }): HubError {
  const what = ctx.file ? `${ctx.repo}@${ctx.revision}/${ctx.file}` : `${ctx.repo}@${ctx.revision}`;
  if ('cause' in failure) {
    const code = networkCode(failure.cause) ?? (failure.cause as Error)?.message;
    return new HubError(
      `cannot reach the Hugging Face Hub at ${ctx.endpoint} (${code}) for ${what}. This machine may have no internet access: ` +
        'download the model where there is (loom model download, or huggingface-cli download) and point --model / LOOM_MODEL ' +
        'at the local GGUF file or safetensors directory, or set HF_ENDPOINT / --endpoint to a reachable mirror.',
      { unreachable: true },
    );
  }
  const { status } = failure;
  if (status === 401 || status === 403) {
    const hint = ctx.tokenGiven
      ? "the token was refused or lacks access: check it, and accept the model's license on its Hub page if it is gated"
      : 'the repo is private or gated: set HF_TOKEN (or --token) to a Hugging Face access token with read access';
    return new HubError(`${status} from ${ctx.endpoint} for ${what}: ${hint}`, { status });
  }
  if (status === 404) {
    const hint = ctx.file
      ? `the file is not in the repo at that revision; check the file name and revision (run without a file to list the repo)`
      : `check the repo id (org/name) and the revision (branch, tag or commit)`;
    return new HubError(
      `404 from ${ctx.endpoint}: ${what} not found: ${hint}${ctx.tokenGiven ? '' : '; a private repo also answers 404 without HF_TOKEN'}`,
      { status },
    );
  }
  if (status === 416)
    return new HubError(
      `416 from ${ctx.endpoint} for ${what}: the partial download is longer than the file; it will restart`,
      { status, retryable: true },
    );
  return new HubError(`${status} from ${ctx.endpoint} for ${what}: the Hub failed; try again later`, {
    status,
    retryable: status >= 500 || status === 429,
  });
}
