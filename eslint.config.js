// typescript-eslint's recommended rules over every package's TypeScript sources and the plain-JS scripts.
// Formatting is prettier's job (npm run format), not a lint rule.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'services/worker/engine/build/**', '.loom/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (positional parameters, destructuring rests).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  // noUncheckedIndexedAccess is on in every project (tsconfig.base.json): an index read states its invariant
  // once (at() / entry() from @loom/common, or a check before the loop) or handles the missing case; `x[i]!`
  // would silence the flag one read at a time.
  {
    files: ['**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSNonNullExpression > MemberExpression[computed=true]',
          message: 'no `x[i]!`: use at() / entry() from @loom/common, or handle the missing case',
        },
      ],
    },
  },
  // The scheduler core stays synchronous and pure: it imports only itself and @loom/common (its own project,
  // services/scheduler/tsconfig.core.json, also fails the build on a file outside src/core).
  {
    files: ['services/scheduler/src/core/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./|@loom/common$|node:crypto$)',
              message: 'the scheduler core imports only src/core, @loom/common and node:crypto (hashing)',
            },
          ],
        },
      ],
    },
  },
  // The rest of the service uses the core through its index (its public surface); tests may reach inside.
  {
    files: ['services/scheduler/src/**/*.ts'],
    ignores: ['services/scheduler/src/core/**', 'services/scheduler/src/testing/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '/core/(?!index\\.js$)', message: "import the scheduler core through './core/index.js'" },
          ],
        },
      ],
    },
  },
  // The gateway's web app: plain ES modules run by the browser.
  { files: ['services/gateway/public/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
);
