import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApiKeyRecord } from '@loom/common';
import { z } from 'zod';

/** sha256 of a key, hex: how keys are stored and looked up (never in clear). */
export const keyDigestHex = (key: string): string => createHash('sha256').update(key).digest('hex');

const limit = z.number().int().min(0);
export const apiKeyRecordSchema = z.object({
  tenant: z.string().min(1),
  priority: z.number().int().optional(),
  cacheSalt: z.string().min(1).optional(),
  rpm: limit.optional(),
  tpm: limit.optional(),
});

/** An --api-keys-file entry: the record plus the key in clear (`key`) or already hashed (`sha256`). */
const fileEntrySchema = apiKeyRecordSchema.extend({
  key: z.string().min(1).optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export interface StaticKey {
  digestHex: string;
  record: ApiKeyRecord;
}

/** `--api-keys a,b`: bare keys, each its own tenant named after its digest. */
export function keysFromList(list: string): StaticKey[] {
  return list
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => {
      const digestHex = keyDigestHex(k);
      return { digestHex, record: { tenant: `key-${digestHex.slice(0, 12)}` } };
    });
}

/**
 * `--api-keys-file`: a JSON array of entries `{ key | sha256, tenant, priority?, cacheSalt?, rpm?, tpm? }`.
 * A bad file stops the gateway at start rather than leaving it open or locked by surprise.
 */
export function keysFromFile(file: string): StaticKey[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--api-keys-file ${file}: ${(err as Error).message}`);
  }
  const parsed = z.array(fileEntrySchema).safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `--api-keys-file ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data.map(({ key, sha256, ...record }, i) => {
    if (!key === !sha256) throw new Error(`--api-keys-file ${file}: entry ${i} needs exactly one of 'key' or 'sha256'`);
    return { digestHex: sha256 ?? keyDigestHex(key!), record };
  });
}

/** A record read from Redis; undefined (and the key refused) when it does not parse. */
export function parseKeyRecord(json: string): ApiKeyRecord | undefined {
  try {
    const r = apiKeyRecordSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
