import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The dashboard's page runs in the browser, as plain JS (no build step).
    files: ['examples/dashboard/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Library code keeps time on RxJS schedulers (DESIGN.md, Time); only the native adapter may touch raw timers.
    files: ['src/**/*.ts'],
    ignores: ['src/transport/native.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='setTimeout']",
          message: 'Use an RxJS scheduler (timer(ms, scheduler)).',
        },
        { selector: "CallExpression[callee.name='setInterval']", message: 'Use an RxJS scheduler.' },
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Use scheduler.now().',
        },
      ],
    },
  },
);
