import type { z } from 'zod';
import { ApiError } from './api-error.js';
import { at } from '@loom/common';

/** `['messages', 0, 'content']` → `messages[0].content` (OpenAI's way of naming a nested param). */
export function paramPath(path: readonly PropertyKey[]): string | null {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || null;
}

/** The first validation issue as a 400 naming the offending parameter. */
export function apiErrorFromZod(err: z.ZodError): ApiError {
  const issue = at(err.issues, 0);
  const param = paramPath(issue.path);
  // With reportInput, an absent field shows as input undefined (a union reports invalid_union).
  const missing =
    issue.path.length > 0 &&
    issue.input === undefined &&
    (issue.code === 'invalid_type' || issue.code === 'invalid_union');
  const code = missing
    ? 'missing_required_parameter'
    : issue.code === 'invalid_type'
      ? 'invalid_type'
      : 'invalid_value';
  const message = missing
    ? `Missing required parameter: '${param}'.`
    : param
      ? `Invalid value for '${param}': ${issue.message}`
      : `Invalid request body: ${issue.message}`;
  return ApiError.invalid(message, param, code);
}

/** Parse `value` with `schema`, or throw the 400 that names the first bad parameter. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (!r.success) throw apiErrorFromZod(r.error);
  return r.data;
}
