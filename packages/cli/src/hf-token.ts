import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hfHome } from './model-store.js';

/**
 * The Hugging Face token to send: HF_TOKEN, else the one `huggingface-cli login` saved
 * (`$HF_TOKEN_PATH` or `$HF_HOME/token`), as huggingface_hub looks for it.
 */
export function hfToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HF_TOKEN) return env.HF_TOKEN;
  const file = env.HF_TOKEN_PATH || join(hfHome(env), 'token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}
