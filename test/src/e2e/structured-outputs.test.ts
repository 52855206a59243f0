import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { at } from '@loom/common';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { openAiSchemaValidator } from '@loom/gateway/testing';
import { sharedDir, spawnService, type ServiceProcess } from '../harness/index.js';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { streamWhileDisturbed } from '../fixtures/stream-while-disturbed.js';

const ajv = new Ajv2020({ strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);

/** Schemas a 260K-parameter story model can finish within max_tokens: bounded strings, enums, small ints. */
const SCHEMAS: Record<string, object> = {
  pet: {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 16 },
      kind: { enum: ['cat', 'dog', 'bird'] },
      age: { type: 'integer', minimum: 0, maximum: 20 },
    },
    required: ['name', 'kind', 'age'],
    additionalProperties: false,
  },
  story: {
    type: 'object',
    properties: {
      title: { type: 'string', maxLength: 24 },
      happy: { type: 'boolean' },
      friends: { type: 'array', items: { type: 'string', maxLength: 10 }, maxItems: 3 },
    },
    required: ['title', 'happy', 'friends'],
    additionalProperties: false,
  },
  point: {
    type: 'array',
    prefixItems: [
      { type: 'integer', minimum: -9, maximum: 9 },
      { type: 'integer', minimum: -9, maximum: 9 },
    ],
    items: false,
    minItems: 2,
  },
};
const MAX_TOKENS = 200;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/** The output parses and validates against `schema`; the message says which seed and what came out. */
function assertValid(schema: object, text: string, what: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    assert.fail(`${what}: not JSON (${(e as Error).message}): ${JSON.stringify(text)}`);
  }
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${what}: ${text} ${JSON.stringify(validate.errors)}`);
}

/**
 * Structured outputs on the real cluster (stories260K, sampled): every output parses and validates,
 * whatever the model would rather write, through every way of asking, on both endpoints, with n > 1,
 * streaming, logprobs (n > 1 too), preemption, and a worker and a scheduler killed mid-generation.
 */
describe('structured outputs end to end', () => {
  let cluster: LocalCluster;
  let standby: ServiceProcess;
  let client: OpenAI;
  const validateSpec = openAiSchemaValidator(path.join(sharedDir(), 'specs', 'openai-openapi.json'));
  const post = (route: string, body: unknown) =>
    fetch(`${cluster.baseURL}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    // A small KV pool (20 blocks of 16) so concurrent constrained streams get preempted and recomputed.
    cluster = await startLocalCluster({ workers: 2, env: { LOOM_NUM_BLOCKS: '20' } });
    await cluster.scheduler.waitForLog((r) => r.msg === 'elected scheduler leader', 10_000);
    standby = await spawnService('scheduler', cluster.env, { name: 'standby-scheduler' });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await standby?.stop();
    await cluster?.stop();
  });

  test('chat.completions.parse with a zod schema (the official client), sampled, many seeds', async () => {
    const Pet = z.object({
      name: z.string().max(12),
      kind: z.enum(['cat', 'dog', 'bird']),
      legs: z.number().int().min(0).max(8),
      friendly: z.boolean(),
    });
    const format = zodResponseFormat(Pet, 'pet');
    const results = await Promise.all(
      SEEDS.map((seed) =>
        client.chat.completions.parse({
          model: cluster.model,
          messages: [{ role: 'user', content: 'Tell me about a pet.' }],
          response_format: format,
          temperature: 1,
          seed,
          max_tokens: MAX_TOKENS,
        }),
      ),
    );
    results.forEach((r, i) => {
      const c = at(r.choices, 0);
      assert.equal(c.finish_reason, 'stop', `seed ${SEEDS[i]}: ${c.message.content}`);
      assert.ok(c.message.parsed, `seed ${SEEDS[i]} parsed`);
      assert.deepEqual(Pet.parse(c.message.parsed), c.message.parsed);
    });
    assert.ok(new Set(results.map((r) => at(r.choices, 0).message.content)).size > 1, 'the seeds sample differently');
  });

  test('response_format json_schema on chat and completions, strict and not, n = 3, streaming: all valid', async () => {
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const runs = SEEDS.slice(0, 4).flatMap((seed) =>
        [true, false].map(async (strict) => {
          const response_format = { type: 'json_schema', json_schema: { name, schema, strict } };
          const raw = await post('/chat/completions', {
            model: cluster.model,
            messages: [{ role: 'user', content: `A ${name}, please.` }],
            response_format,
            temperature: 0.9,
            seed,
            n: 3,
            max_tokens: MAX_TOKENS,
          });
          assert.equal(raw.status, 200);
          const body = (await raw.json()) as OpenAI.ChatCompletion;
          assert.deepEqual(validateSpec('CreateChatCompletionResponse', body), []);
          assert.equal(body.choices.length, 3);
          for (const c of body.choices) {
            assert.equal(c.finish_reason, 'stop', `${name} seed ${seed}: ${c.message.content}`);
            assertValid(schema, c.message.content!, `chat ${name} seed ${seed} choice ${c.index}`);
          }
          const completion = await client.completions.create({
            model: cluster.model,
            prompt: 'Once upon a time',
            temperature: 0.9,
            seed,
            max_tokens: MAX_TOKENS,
            stream: true,
            response_format,
          } as OpenAI.CompletionCreateParamsStreaming);
          let text = '';
          let finish: string | null = null;
          for await (const chunk of completion) {
            text += chunk.choices[0]?.text ?? '';
            finish = chunk.choices[0]?.finish_reason ?? finish;
          }
          assert.equal(finish, 'stop');
          assertValid(schema, text, `completion stream ${name} seed ${seed}`);
        }),
      );
      await Promise.all(runs);
    }
  });

  test("vLLM's guided_* and structured_outputs, json_object, with logprobs renormalised over what is allowed", async () => {
    const complete = async (extra: Record<string, unknown>, seed: number) => {
      const r = await client.completions.create({
        model: cluster.model,
        prompt: 'The cat sat',
        temperature: 1,
        seed,
        max_tokens: MAX_TOKENS,
        logprobs: 3,
        ...extra,
      } as OpenAI.CompletionCreateParamsNonStreaming);
      const c = at(r.choices, 0);
      assert.equal(c.finish_reason, 'stop', `${JSON.stringify(extra)} seed ${seed}: ${c.text}`);
      for (const top of c.logprobs!.top_logprobs!) {
        const mass = Object.values(top!).reduce((s, lp) => s + Math.exp(lp), 0);
        assert.ok(mass <= 1 + 1e-3, 'top alternatives are a distribution over allowed tokens');
      }
      return c.text;
    };
    const choices = ['happy', 'sad', 'sleepy cat'];
    for (const seed of SEEDS.slice(0, 5)) {
      assert.match(
        await complete({ guided_regex: '[a-z]{1,8}( [a-z]{1,8}){0,2}!' }, seed),
        /^[a-z]{1,8}( [a-z]{1,8}){0,2}!$/,
      );
      assert.ok(choices.includes(await complete({ guided_choice: choices }, seed)));
      assert.ok(choices.includes(await complete({ structured_outputs: { choice: choices } }, seed)));
      assert.match(
        await complete({ guided_grammar: 'root ::= num ("+" num){0,3}\nnum ::= [1-9] [0-9]?\n' }, seed),
        /^[1-9][0-9]?(\+[1-9][0-9]?){0,3}$/,
      );
      assertValid(SCHEMAS.pet!, await complete({ guided_json: SCHEMAS.pet }, seed), `guided_json seed ${seed}`);
      assertValid(SCHEMAS.point!, await complete({ structured_outputs: { json: SCHEMAS.point } }, seed), 'so.json');
    }
    // Any object has no bound on its length (the story model rarely closes a key it started), so only
    // an output that stopped must parse; every one is an object's beginning.
    for (const seed of SEEDS) {
      const r = await client.completions.create({
        model: cluster.model,
        prompt: 'The cat sat',
        temperature: 0.7,
        seed,
        max_tokens: MAX_TOKENS,
        response_format: { type: 'json_object' },
      } as OpenAI.CompletionCreateParamsNonStreaming);
      assert.match(at(r.choices, 0).text, /^\{/);
      if (at(r.choices, 0).finish_reason !== 'stop') continue;
      const obj = JSON.parse(at(r.choices, 0).text) as unknown;
      assert.ok(typeof obj === 'object' && obj !== null && !Array.isArray(obj));
    }
  });

  test("chat takes vLLM's guided_* too; n = 3 with logprobs under a grammar: every choice valid, its own logprobs", async () => {
    const choices = ['happy', 'sad', 'sleepy cat'];
    const chat = async (extra: Record<string, unknown>, seed: number) => {
      const r = await client.chat.completions.create({
        model: cluster.model,
        messages: [{ role: 'user', content: 'How is the cat?' }],
        temperature: 1,
        seed,
        n: 3,
        max_tokens: MAX_TOKENS,
        logprobs: true,
        top_logprobs: 3,
        ...extra,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      assert.deepEqual(validateSpec('CreateChatCompletionResponse', r), []);
      assert.equal(r.choices.length, 3);
      for (const c of r.choices) {
        assert.equal(c.finish_reason, 'stop', `${JSON.stringify(extra)} seed ${seed}: ${c.message.content}`);
        const tokens = c.logprobs!.content!;
        // This choice's tokens, the EOS that ended it last (counted and scored, its text not in the content).
        assert.equal(tokens.map((t) => t.token).join(''), `${c.message.content}</s>`);
        for (const t of tokens) {
          assert.ok(t.logprob <= 0 && t.top_logprobs.length > 0);
          const mass = t.top_logprobs.reduce((sum, a) => sum + Math.exp(a.logprob), 0);
          assert.ok(mass <= 1 + 1e-3, 'top alternatives are a distribution over allowed tokens');
        }
      }
      return r.choices.map((c) => c.message.content!);
    };
    const seen = new Set<string>();
    for (const seed of SEEDS.slice(0, 3)) {
      for (const text of await chat({ guided_choice: choices }, seed)) assert.ok(choices.includes(text), text);
      for (const text of await chat({ guided_regex: '[a-z]{1,8}( [a-z]{1,8}){0,2}!' }, seed)) {
        assert.match(text, /^[a-z]{1,8}( [a-z]{1,8}){0,2}!$/);
        seen.add(text);
      }
      for (const text of await chat({ guided_grammar: 'root ::= num ("+" num){0,3}\nnum ::= [1-9] [0-9]?\n' }, seed))
        assert.match(text, /^[1-9][0-9]?(\+[1-9][0-9]?){0,3}$/);
      for (const text of await chat({ guided_json: SCHEMAS.pet }, seed))
        assertValid(SCHEMAS.pet!, text, `chat n=3 seed ${seed}`);
    }
    assert.ok(seen.size > 3, 'the choices of n = 3 sample differently');
  });

  test('a bad schema is a 400 naming response_format (through the official client)', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: cluster.model,
        messages: [{ role: 'user', content: 'hi' }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'foo' } } } },
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError, String(e));
        assert.equal(e.param, 'response_format');
        assert.match(e.message, /Unsupported type "foo"/);
        return true;
      },
    );
  });

  /** Constrained sampled completions: undisturbed, then streamed with `disturb` once all are open (the failure tests' shape). */
  const storyBodies = () =>
    SEEDS.map(
      (seed, i) =>
        ({
          model: cluster.model,
          prompt: at(['Once upon a time', 'The cat sat', 'Lily and Ben went'], i % 3),
          temperature: 1,
          seed,
          max_tokens: MAX_TOKENS,
          response_format: { type: 'json_schema', json_schema: { name: 'story', schema: SCHEMAS.story, strict: true } },
        }) as OpenAI.CompletionCreateParamsNonStreaming,
    );
  /** Every stream stopped with a valid story, the text of the undisturbed run. */
  function assertValidUnchanged(run: Awaited<ReturnType<typeof streamWhileDisturbed>>): void {
    run.streamed.forEach((s, i) => {
      assert.equal(s.finish, 'stop', `stream ${i}`);
      assertValid(SCHEMAS.story!, s.text, `stream ${i}`);
      assert.equal(s.text, run.undisturbed[i], `stream ${i}: the recomputed grammar state continues the same text`);
    });
  }

  test('preempted and recomputed (a small KV pool): constrained streams stay valid, and seeded runs repeat', async () => {
    const preemptions = async () =>
      Number(
        /^loom_preemptions_total\{[^}]*\} (\d+)/m.exec(
          await (await fetch(`http://127.0.0.1:${String(cluster.scheduler.ready!.metricsPort)}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const before = await preemptions();
    assertValidUnchanged(await streamWhileDisturbed(client, storyBodies(), () => {}));
    assert.ok((await preemptions()) > before, 'sequences were preempted');
  });

  test('a worker killed mid-generation: the streams continue on the other, valid and unchanged', async () => {
    const victim = at(cluster.workers, 0);
    assertValidUnchanged(await streamWhileDisturbed(client, storyBodies(), () => victim.kill('SIGKILL')));
    assert.equal((await victim.exited).signal, 'SIGKILL');
    assert.ok(cluster.scheduler.logs.some((r) => r.msg === 'worker lost' && Number(r.requeued) > 0));
  });

  test('the scheduler killed mid-generation: a standby resumes each grammar from the streamed output', async () => {
    const run = await streamWhileDisturbed(client, storyBodies(), () => cluster.scheduler.kill('SIGKILL'));
    await standby.waitForLog((r) => r.msg === 'elected scheduler leader', 10_000);
    assert.ok(standby.logs.some((r) => r.msg === 'request resumed from its output stream'));
    assertValidUnchanged(run);
  });
});
