import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { at } from '@loom/common';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ClusterStatus } from '@loom/common';
import { cliMain, freePort, spawnService, waitFor, type ServiceProcess } from '../harness/index.js';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';

/** Debian's Chromium (scripts/ensure.mjs --for test installs it); playwright-core never downloads a browser. */
const CHROMIUM = process.env.LOOM_CHROMIUM ?? '/usr/bin/chromium';
/** Flags that make Chromium start quietly on a machine without a network beyond loopback, as root. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** When set, the test saves the README's screenshots there (docs/img: `LOOM_SCREENSHOTS=docs/img`). */
const SHOTS = process.env.LOOM_SCREENSHOTS;

const run = promisify(execFile);
const loomStatus = (...args: string[]) => run(process.execPath, [cliMain(), 'status', ...args], { env: process.env });

/**
 * The web app served by the gateway, driven in headless Chromium against a real cluster (Redis,
 * scheduler, one worker running stories260K): the playground streams real model output, and the
 * cluster view shows the live worker from GET /status, as `loom status` does.
 */
describe('web app in a real browser', () => {
  let cluster: LocalCluster;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const errors: string[] = [];

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run node scripts/ensure.mjs --for test (installs chromium)`,
    );
    cluster = await startLocalCluster();
    origin = cluster.baseURL.replace(/\/v1$/, '');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  /** Set a sampling control the way a user does: type into its number box and leave it. */
  async function setParam(key: string, value: number): Promise<void> {
    await page.fill(`#param-${key}`, String(value));
    await page.press(`#param-${key}`, 'Tab');
  }

  test('the playground lists the model and streams a greedy answer equal to the API', async () => {
    await page.goto(origin + '/');
    await page.waitForSelector(`#model option[value="${cluster.model}"]`, { state: 'attached' });
    await setParam('temperature', 0);
    await setParam('max_tokens', 48);
    await page.fill('#system', 'You tell short stories.');
    // Count the answer's text updates: a streamed answer arrives in many, a buffered one in one.
    await page.evaluate(`window.textUpdates = 0;
      new MutationObserver(() => window.textUpdates++).observe(document.getElementById('messages'), {
        subtree: true, characterData: true, childList: true,
      })`);
    await page.fill('#prompt', 'Once upon a time');
    await page.press('#prompt', 'Enter');
    const answer = page.locator('.msg.assistant').last();
    await answer.locator('.stats span').first().waitFor({ timeout: 60_000 });
    assert.equal(await answer.evaluate((el) => el.classList.contains('streaming')), false);
    const text = await answer.locator('.text').innerText();
    const stats = await answer.locator('.stats').innerText();
    assert.match(stats, /48 tokens/);
    assert.match(stats, /TTFT \d/);
    assert.match(stats, /tok\/s/);
    assert.match(stats, /stopped at max tokens/);
    const updates = Number(await page.evaluate('window.textUpdates'));
    assert.ok(updates > 5, `the answer streamed in (${updates} DOM updates)`);

    // The same conversation through the API, greedy: the page showed exactly the model's text.
    const res = await fetch(`${cluster.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: cluster.model,
        messages: [
          { role: 'system', content: 'You tell short stories.' },
          { role: 'user', content: 'Once upon a time' },
        ],
        temperature: 0,
        top_k: 40,
        top_p: 0.95,
        min_p: 0.05,
        max_tokens: 48,
      }),
    });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.equal(text.trim(), at(body.choices, 0).message.content.trim());
    assert.ok(text.trim().length > 20, `a real answer: ${JSON.stringify(text)}`);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'playground.png') });
  });

  test('Stop ends an answer at once and cancels it in the cluster', async () => {
    await page.click('#clear');
    assert.equal(await page.locator('.msg').count(), 0, 'New chat empties the conversation');
    await setParam('max_tokens', 400);
    // Other clients keep the worker busy, so the page's answer takes seconds, not the 0.4 s this model
    // needs alone: the Stop below always lands before the server could finish.
    const others = Array.from({ length: 8 }, (_, i) =>
      fetch(`${cluster.baseURL}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: cluster.model, prompt: `Story ${i}`, max_tokens: 300, ignore_eos: true }),
      }).then((r) => r.json()),
    );
    await page.fill('#prompt', 'Tell me about a dog');
    // Send, and press the same button (Stop while an answer streams) as soon as the first text shows:
    // in the page, so no round trip from here adds to the time the answer runs.
    const shownWhenStopped = Number(
      await page.evaluate(`new Promise((resolve) => {
        const send = document.getElementById('send');
        const log = document.getElementById('messages');
        const seen = new MutationObserver(() => {
          const text = log.querySelector('.msg.assistant:last-child .text');
          if (!text || !text.textContent.trim() || send.textContent !== 'Stop') return;
          seen.disconnect();
          send.click();
          resolve(text.textContent.length);
        });
        seen.observe(log, { subtree: true, characterData: true, childList: true });
        send.click();
      })`),
    );
    assert.ok(shownWhenStopped > 0);
    const answer = page.locator('.msg.assistant').last();
    await answer.locator('.stats span').last().waitFor();
    const stats = await answer.locator('.stats').innerText();
    assert.match(stats, /^TTFT \d.*\nstopped$/, `stopped by the user, no usage: ${stats}`);
    const text = await answer.locator('.text').innerText();
    assert.ok(text.length >= shownWhenStopped, 'what was shown stays');
    assert.equal(await page.locator('#send').innerText(), 'Send');
    // The gateway saw the browser go away before the answer's end and cancelled it everywhere.
    await cluster.gateway.waitForLog(
      (r) =>
        r.msg === 'cancelling request' &&
        r.reason === 'client_disconnected' &&
        String(r.requestId).startsWith('chatcmpl-'),
      10_000,
    );
    await Promise.all(others);
  });

  test('JSON output: an answer that parses as JSON, or the toggle turned off where the gateway refuses it', async () => {
    await page.click('#clear');
    await setParam('max_tokens', 64);
    await page.check('#json-output');
    await page.fill('#prompt', 'A cat as JSON');
    await page.press('#prompt', 'Enter');
    const answer = page.locator('.msg.assistant').last();
    // The button is Stop from the keypress until the answer (or the error) is in.
    await page.locator('#send').filter({ hasText: 'Send' }).waitFor();
    const text = await answer.locator('.text').innerText();
    if (await answer.evaluate((el) => el.classList.contains('error'))) {
      // A gateway without structured outputs names response_format.
      assert.match(text, /\(response_format\)$/);
      assert.equal(await page.isDisabled('#json-output'), true);
      assert.equal(await page.isChecked('#json-output'), false);
      assert.match(await page.locator('.check .note').innerText(), /does not offer JSON output/);
      const refused = errors.findIndex((e) => e.includes('status of 400'));
      assert.ok(refused >= 0, 'the browser saw the 400');
      errors.splice(refused, 1);
    } else if (/stopped at max tokens/.test(await answer.locator('.stats').innerText())) {
      // Any object has no bound on its length: the demo model's may be cut by max_tokens, where it cannot parse.
      assert.match(text, /^\{/, `a JSON object's beginning: ${text}`);
    } else {
      assert.doesNotThrow(() => JSON.parse(text), `a JSON answer: ${text}`);
    }
  });

  test('the cluster view lists the live worker and refreshes from GET /status', async () => {
    await page.goto(origin + '/#cluster');
    const row = page.locator('#cluster-workers tr[data-worker="w0"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'up');
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[0], 'w0');
    assert.equal(cells[2], cluster.model);
    assert.match(at(cells, 3), /^(avx512\w*|avx2|scalar) · 1 thread · f32$/, 'device from the worker Info');
    assert.match(await page.locator('.tile[data-key="workers"] .value').innerText(), /^1 up$/);
    assert.match(await page.locator('.tile[data-key="leader"] .detail').innerText(), /^term 1 /);
    assert.match(await page.locator('.tile[data-key="ttft"] .value').innerText(), /^p50 \d/);

    // Work done elsewhere shows up without a reload: the step count of the worker grows.
    const steps = Number(at(cells, 8).replace(/,/g, ''));
    await fetch(`${cluster.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: cluster.model, prompt: 'The cat', max_tokens: 30, ignore_eos: true }),
    }).then((r) => r.json());
    const stepsCell = row.locator('td').nth(8);
    await waitFor(async () => Number((await stepsCell.innerText()).replace(/,/g, '')) >= steps + 30, {
      timeoutMs: 15_000,
      what: 'the page to show the new steps',
    });
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'cluster.png') });
    assert.deepEqual(errors, [], 'no script error or failed request in the page');
  });

  test('loom status prints the same view; --json is the GET /status document', async () => {
    const { stdout: json } = await loomStatus('--url', cluster.baseURL, '--json');
    const status = JSON.parse(json) as ClusterStatus;
    assert.equal(status.object, 'cluster.status');
    assert.equal(status.workers.length, 1);
    const w = at(status.workers, 0);
    assert.equal(w.id, 'w0');
    assert.equal(w.state, 'up');
    assert.ok(w.kv_blocks > 0 && w.block_size === 16);
    assert.ok(w.prefix_queried_tokens > 0 && w.prefix_hit_rate !== null);
    assert.equal(status.scheduler.instances.length, 1);
    assert.equal(status.scheduler.leader, at(status.scheduler.instances, 0).id);
    assert.ok(status.latency.time_to_first_token.count >= 3, 'every answer above gave a TTFT sample');
    assert.equal(at(status.models, 0).id, cluster.model);

    const { stdout: text } = await loomStatus('--url', cluster.baseURL);
    assert.match(text, /^ {2}Workers +1 up/m);
    assert.match(text, new RegExp(`^ {2}w0 +up +${cluster.model.replace(/[.-]/g, '\\$&')} `, 'm'));
    assert.match(text, /^Schedulers\n {2}SCHEDULER +ROLE/m);
  });

  test('with API keys on, the page asks for a key and every call it makes carries it', async () => {
    const gateway: ServiceProcess = await spawnService(
      'gateway',
      { ...cluster.env, PORT: String(await freePort()), LOOM_API_KEYS: 'sk-web-test' },
      { name: 'gateway-keys' },
    );
    const context = await browser.newContext();
    try {
      const url = gateway.url!.replace(/\/$/, '');
      assert.equal((await fetch(`${url}/status`)).status, 401, 'GET /status is behind the key');
      assert.equal((await fetch(`${url}/`)).status, 200, 'the page itself is public');
      const p = await context.newPage();
      await p.goto(url + '/');
      await p.locator('#key-dialog').waitFor();
      await p.fill('#key-input', 'sk-wrong');
      await p.click('#key-save');
      await p.locator('#key-error').filter({ hasText: 'Incorrect API key' }).waitFor();
      await p.fill('#key-input', 'sk-web-test');
      await p.click('#key-save');
      await p.waitForSelector(`#model option[value="${cluster.model}"]`, { state: 'attached' });
      await p.goto(url + '/#cluster');
      await p.locator('#cluster-workers tr[data-worker="w0"][data-state="up"]').waitFor();

      const { stdout } = await loomStatus('--url', url, '--api-key', 'sk-web-test', '--json');
      assert.equal((JSON.parse(stdout) as ClusterStatus).gateway.api_keys, true);
      await assert.rejects(loomStatus('--url', url), (err: { stderr: string; code: number }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr, /needs an API key: pass --api-key or set LOOM_API_KEY/);
        return true;
      });
    } finally {
      await context.close();
      await gateway.stop();
    }
  });
});
