// The chat playground: a conversation with one model over /v1/chat/completions, streamed, with the
// sampling controls, and per answer its token counts, time to first token and generation speed.
import { ApiError, streamJson } from './api.js';
import { h, fill } from './dom.js';
import { count, latency, rate } from './format.js';

const SETTINGS_KEY = 'loom.chat.settings';

/** Sampling controls: request field, label, range, default. */
const PARAMS = [
  { key: 'temperature', label: 'Temperature', min: 0, max: 2, step: 0.05, value: 0.8 },
  { key: 'top_p', label: 'Top P', min: 0, max: 1, step: 0.01, value: 0.95 },
  { key: 'top_k', label: 'Top K', min: 0, max: 200, step: 1, value: 40 },
  { key: 'min_p', label: 'Min P', min: 0, max: 1, step: 0.01, value: 0.05 },
  { key: 'repetition_penalty', label: 'Repeat penalty', min: 0.5, max: 2, step: 0.01, value: 1 },
  { key: 'max_tokens', label: 'Max tokens', min: 1, max: 4096, step: 1, value: 256 },
];

function loadSettings() {
  const defaults = { system: '', seed: '', json: false, ...Object.fromEntries(PARAMS.map((p) => [p.key, p.value])) };
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') };
  } catch {
    return defaults;
  }
}

export function createChat(root) {
  const settings = loadSettings();
  const save = () => localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  /** The conversation: {role, content} plus, for answers, their element and stats. */
  const messages = [];
  let models = [];
  let running; // AbortController of the answer being streamed

  const modelSelect = h('select', { id: 'model', 'aria-label': 'Model' });
  const system = h('textarea', {
    id: 'system',
    rows: 4,
    placeholder: 'You are a helpful assistant.',
    oninput: () => ((settings.system = system.value), save()),
  });
  system.value = settings.system;
  const seed = h('input', {
    id: 'seed',
    type: 'number',
    min: 0,
    step: 1,
    placeholder: 'random',
    oninput: () => ((settings.seed = seed.value), save()),
  });
  seed.value = settings.seed;
  const jsonToggle = h('input', {
    id: 'json-output',
    type: 'checkbox',
    onchange: () => ((settings.json = jsonToggle.checked), save()),
  });
  jsonToggle.checked = settings.json;
  const jsonNote = h('p', { class: 'note', hidden: true });

  const sliders = PARAMS.map((p) => {
    const range = h('input', { type: 'range', min: p.min, max: p.max, step: p.step, 'aria-label': p.label });
    const num = h('input', { type: 'number', min: p.min, max: p.max, step: p.step, id: `param-${p.key}` });
    range.value = num.value = settings[p.key];
    const set = (v) => {
      settings[p.key] = Number(v);
      range.value = num.value = v;
      save();
    };
    range.addEventListener('input', () => set(range.value));
    num.addEventListener('change', () => set(num.value));
    return { p, range, num, el: h('label', { class: 'param' }, h('span', {}, p.label), range, num) };
  });

  const log = h('div', { class: 'messages', id: 'messages', 'aria-live': 'polite' });
  const prompt = h('textarea', {
    id: 'prompt',
    rows: 3,
    placeholder: 'Message (Enter to send, Shift+Enter for a new line)',
    onkeydown: (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      }
    },
  });
  const sendButton = h('button', { id: 'send', class: 'primary', onclick: () => (running ? stop() : send()) }, 'Send');
  const clearButton = h('button', { id: 'clear', onclick: clear }, 'New chat');

  fill(
    root,
    h(
      'aside',
      { class: 'settings' },
      h('label', { class: 'field' }, h('span', {}, 'Model'), modelSelect),
      h('label', { class: 'field' }, h('span', {}, 'System prompt'), system),
      h('h3', {}, 'Sampling'),
      sliders.map((s) => s.el),
      h('label', { class: 'field inline' }, h('span', {}, 'Seed'), seed),
      h('label', { class: 'check' }, jsonToggle, h('span', {}, 'JSON output'), jsonNote),
      clearButton,
    ),
    h('section', { class: 'conversation' }, log, h('div', { class: 'composer' }, prompt, sendButton)),
  );
  renderEmpty();

  function renderEmpty() {
    if (messages.length) return;
    const m = modelSelect.value;
    fill(
      log,
      h(
        'div',
        { class: 'empty' },
        h('h2', {}, m ? `Chat with ${m}` : 'No model is served yet'),
        h('p', {}, m ? 'Answers stream from the cluster; each shows its tokens, TTFT and speed.' : 'Start a worker.'),
      ),
    );
  }

  function setModels(list) {
    models = list;
    const current = modelSelect.value || settings.model;
    fill(
      modelSelect,
      list.map((m) => h('option', { value: m.id }, m.id)),
    );
    if (list.some((m) => m.id === current)) modelSelect.value = current;
    settings.model = modelSelect.value;
    const card = models.find((m) => m.id === modelSelect.value);
    const maxTokens = sliders.find((s) => s.p.key === 'max_tokens');
    if (card?.max_model_len) maxTokens.range.max = maxTokens.num.max = card.max_model_len;
    renderEmpty();
  }
  modelSelect.addEventListener('change', () => {
    settings.model = modelSelect.value;
    save();
    setModels(models);
  });

  function clear() {
    stop();
    messages.length = 0;
    renderEmpty();
    prompt.focus();
  }

  function stop() {
    running?.abort();
  }

  function bubble(role, text) {
    const body = h('div', { class: 'text' }, text);
    const stats = h('div', { class: 'stats' });
    const el = h('article', { class: `msg ${role}` }, h('div', { class: 'role' }, role), body, stats);
    if (!messages.length) log.replaceChildren();
    log.append(el);
    log.scrollTop = log.scrollHeight;
    return { el, body, stats };
  }

  async function send() {
    const text = prompt.value.trim();
    const model = modelSelect.value;
    if (!text || !model || running) return;
    prompt.value = '';
    bubble('user', text);
    messages.push({ role: 'user', content: text });
    const answer = bubble('assistant', '');
    answer.el.classList.add('streaming');
    const request = {
      model,
      messages: [...(settings.system.trim() ? [{ role: 'system', content: settings.system }] : []), ...messages],
      stream: true,
      stream_options: { include_usage: true },
      ...Object.fromEntries(PARAMS.map((p) => [p.key, settings[p.key]])),
      ...(settings.seed !== '' ? { seed: Number(settings.seed) } : {}),
      ...(jsonToggle.checked ? { response_format: { type: 'json_object' } } : {}),
    };
    running = new AbortController();
    sendButton.textContent = 'Stop';
    sendButton.classList.add('stop');
    const t0 = performance.now();
    let first, last, usage, finish;
    let content = '';
    try {
      for await (const chunk of streamJson('/v1/chat/completions', request, running.signal)) {
        if (chunk.usage) usage = chunk.usage;
        for (const c of chunk.choices ?? []) {
          const delta = c.delta?.content ?? '';
          if (delta) {
            first ??= performance.now();
            last = performance.now();
            content += delta;
            answer.body.textContent = content;
            log.scrollTop = log.scrollHeight;
          }
          finish = c.finish_reason ?? finish;
        }
      }
    } catch (err) {
      if (err.name === 'AbortError') finish = 'stopped';
      else showError(answer, err);
    } finally {
      running = undefined;
      sendButton.textContent = 'Send';
      sendButton.classList.remove('stop');
      answer.el.classList.remove('streaming');
    }
    if (content) messages.push({ role: 'assistant', content });
    else if (!answer.el.classList.contains('error'))
      answer.body.textContent = finish === 'stopped' ? '(stopped before the first token)' : '(empty answer)';
    renderStats(answer, { t0, first, last, usage, finish });
    prompt.focus();
  }

  function showError(answer, err) {
    answer.el.classList.add('error');
    const where = err.param ? ` (${err.param})` : '';
    answer.body.textContent = `${err.message}${where}`;
    // Until the gateway has structured outputs, it refuses response_format json_object by name.
    if (err instanceof ApiError && err.param === 'response_format') {
      jsonToggle.checked = settings.json = false;
      jsonToggle.disabled = true;
      save();
      jsonNote.textContent = 'This gateway does not offer JSON output yet.';
      jsonNote.hidden = false;
    }
  }

  function renderStats(answer, { t0, first, last, usage, finish }) {
    const parts = [];
    if (usage) parts.push(`${count(usage.prompt_tokens)} prompt`, `${count(usage.completion_tokens)} tokens`);
    if (first !== undefined) parts.push(`TTFT ${latency((first - t0) / 1000)}`);
    const n = usage?.completion_tokens ?? 0;
    if (n > 1 && last > first) parts.push(rate(((n - 1) * 1000) / (last - first)));
    if (finish) parts.push(finish === 'length' ? 'stopped at max tokens' : finish);
    fill(
      answer.stats,
      parts.map((p) => h('span', {}, p)),
    );
  }

  return { setModels, focus: () => prompt.focus() };
}
