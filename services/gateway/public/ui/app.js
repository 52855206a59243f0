// Entry point of the page: two views (#chat, #cluster) switched by the URL hash, and the API key
// dialog shown whenever the gateway refuses a call for want of a key.
import { apiKey, getJson, onAuthRequired } from './api.js';
import { createChat } from './chat.js';
import { createCluster } from './cluster.js';
import { h } from './dom.js';

const views = {
  chat: document.getElementById('view-chat'),
  cluster: document.getElementById('view-cluster'),
};
const tabs = /** @type {HTMLAnchorElement[]} */ ([...document.querySelectorAll('nav a[data-view]')]);
const chat = createChat(views.chat);
const cluster = createCluster(views.cluster);
const keyButton = document.getElementById('key-button');
const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('key-dialog'));
const keyInput = /** @type {HTMLInputElement} */ (document.getElementById('key-input'));
const keyError = document.getElementById('key-error');

function show() {
  const name = location.hash === '#cluster' ? 'cluster' : 'chat';
  for (const [n, el] of Object.entries(views)) el.hidden = n !== name;
  for (const t of tabs) t.setAttribute('aria-current', t.dataset.view === name ? 'page' : 'false');
  if (name === 'cluster') cluster.show();
  else {
    cluster.hide();
    void loadModels();
  }
}

async function loadModels() {
  try {
    const list = await getJson('/v1/models');
    chat.setModels(list.data);
  } catch (err) {
    if (err.status !== 401) showBanner(`Cannot list models: ${err.message}`);
  }
}

function showBanner(text) {
  const banner = document.getElementById('app-banner');
  banner.textContent = text;
  banner.hidden = !text;
}

// API keys: asked for on the first 401, kept in this browser's localStorage, sent as a Bearer header.
onAuthRequired((err) => {
  keyButton.hidden = false;
  if (dialog.open) {
    keyError.textContent = err.message;
    return;
  }
  keyError.textContent = apiKey.get() ? err.message : '';
  keyInput.value = apiKey.get();
  dialog.showModal();
});
dialog.addEventListener('close', () => {
  if (dialog.returnValue !== 'save') return;
  apiKey.set(keyInput.value.trim());
  keyButton.hidden = false;
  showBanner('');
  show();
});
keyButton.addEventListener('click', () => {
  keyInput.value = apiKey.get();
  keyError.textContent = '';
  dialog.showModal();
});
if (apiKey.get()) keyButton.hidden = false;

window.addEventListener('hashchange', show);
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && show());
show();
chat.focus();

// Shown in the footer: which gateway this page talks to.
document.getElementById('origin').append(h('code', {}, `${location.origin}/v1`));
