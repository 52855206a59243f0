import path from 'node:path';
import { SHARED_DIR } from './model-card.js';

export const OPENAI_SPEC = path.join(SHARED_DIR, 'specs', 'openai-openapi.json');
export const STORIES_GGUF = path.join(SHARED_DIR, 'models', 'stories260K', 'stories260K-f32.gguf');
