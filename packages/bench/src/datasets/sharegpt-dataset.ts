import { readFileSync } from 'node:fs';
import type { BenchRequest } from '../bench-request.js';
import { Rng } from '../random-variates.js';

export interface ShareGptDatasetOptions {
  /** A ShareGPT-style JSON file: [{ conversations: [{ from, value }, ...] }, ...]. */
  path: string;
  numPrompts: number;
  /** Fixed max_tokens for every request; by default the length of the conversation's reply. */
  outputLen?: number;
  seed?: number;
  /** Token count of a text, by the server's tokenizer (its /tokenize). */
  countTokens: (text: string) => Promise<number>;
}

interface Conversation {
  conversations?: { from?: string; value?: unknown }[];
}

/**
 * vLLM's sharegpt dataset: entries with at least two turns, shuffled (seeded); the first turn is the
 * prompt, the second's token count the output length. Like vLLM it skips pairs with a prompt or reply
 * under 4 tokens (the reply check only without a fixed output length), prompts over 1024 tokens and
 * pairs over 2048 together; it stops once it has numPrompts.
 */
export async function shareGptDataset(o: ShareGptDatasetOptions): Promise<BenchRequest[]> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(o.path, 'utf8'));
  } catch (err) {
    throw new Error(`${o.path}: not a readable JSON file (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new Error(`${o.path}: expected a JSON array of {conversations: [...]} entries`);
  const usable = (data as Conversation[]).filter(
    (e) =>
      Array.isArray(e?.conversations) &&
      e.conversations.length >= 2 &&
      typeof e.conversations[0]?.value === 'string' &&
      typeof e.conversations[1]?.value === 'string',
  );
  new Rng(o.seed ?? 0).shuffle(usable);
  const requests: BenchRequest[] = [];
  for (const e of usable) {
    if (requests.length >= o.numPrompts) break;
    const [first, second] = e.conversations ?? [];
    if (!first || !second) continue; // `usable` kept only two-turn conversations
    const prompt = first.value as string;
    const promptLen = await o.countTokens(prompt);
    const outputLen = o.outputLen ?? (await o.countTokens(second.value as string));
    if (promptLen < 4 || (o.outputLen === undefined && outputLen < 4)) continue;
    if (promptLen > 1024 || promptLen + outputLen > 2048) continue;
    requests.push({ prompt, promptLen, outputLen });
  }
  if (requests.length === 0) throw new Error(`${o.path}: no usable conversation (two turns, 4 to 1024 prompt tokens)`);
  return requests;
}
