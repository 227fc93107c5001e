import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import boundaries from 'eslint-plugin-boundaries';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';

/**
 * The layer map (README, "Where new code goes"), held by lint rather than by prose.
 *
 * LAYERS: which folders each folder may import from (relative imports), checked by
 * eslint-plugin-boundaries. Product code never reaches test code or the benchmark.
 */
const LAYERS = {
  core: ['core'],
  model: ['core', 'model'],
  // The page's side of the worker: the bridge and the message types, nothing else of it.
  'worker-api': ['core', 'worker-api'],
  worker: ['core', 'model', 'worker', 'worker-api'],
  outbox: ['core', 'outbox'],
  sw: ['core', 'outbox', 'sw'],
  app: ['core', 'outbox', 'worker-api', 'app'],
  node: ['core', 'node'],
  // Node tools that run the model (CLI, bench, later the pipeline); the server does not.
  'node-inference': ['core', 'model', 'node', 'node-inference'],
  server: ['core', 'node', 'server'],
  cli: ['core', 'model', 'node', 'node-inference', 'cli'],
  // Release tools (the model registry CLI, the rollout analysis): the only layer that holds
  // the server's registry storage and the model runtime together, to validate before it registers.
  release: ['core', 'model', 'node', 'node-inference', 'server', 'release'],
  bench: [
    'core',
    'model',
    'worker-api',
    'worker',
    'app',
    'node',
    'node-inference',
    'server',
    'test-support',
    'cli',
    'config',
    'bench',
  ],
  'test-support': ['core', 'node', 'server', 'test-support'],
  e2e: ['core', 'node', 'test-support', 'e2e', 'config'],
  config: ['core', 'node', 'server', 'app', 'config'],
};

/** Imports allowed for types only: the worker's message types name the engine's results. */
const TYPE_ONLY = { 'worker-api': ['model'] };

/** What tests may reach beyond their folder's layers: the Node helpers, the models, the server, test support. */
const TEST_EXTRAS = ['node', 'node-inference', 'model', 'server', 'test-support'];

/** The root configuration files are a file category, not an element (they sit in no folder). */
const select = (layer) =>
  layer === 'config'
    ? { file: { categories: { anyOf: ['config'] } } }
    : { element: { type: layer } };

function layerPolicies(extras = []) {
  return Object.entries(LAYERS).map(([from, allowed]) => ({
    from: select(from),
    allow: [
      ...[...new Set([...allowed, ...extras])].map((layer) => ({ to: select(layer) })),
      ...(TYPE_ONLY[from] ?? []).map((layer) => ({
        to: select(layer),
        dependency: { kind: 'type' },
      })),
    ],
  }));
}

/** First match wins: the narrow folders come before the folders that hold them. */
const ELEMENTS = [
  { type: 'worker-api', pattern: 'src/worker/api' },
  { type: 'node-inference', pattern: 'src/node/inference' },
  { type: 'core', pattern: 'src/core' },
  { type: 'model', pattern: 'src/model' },
  { type: 'worker', pattern: 'src/worker' },
  { type: 'outbox', pattern: 'src/outbox' },
  { type: 'sw', pattern: 'src/sw' },
  { type: 'app', pattern: 'src/app' },
  { type: 'node', pattern: 'src/node' },
  { type: 'server', pattern: 'src/server' },
  { type: 'cli', pattern: 'src/cli' },
  { type: 'release', pattern: 'src/release' },
  { type: 'bench', pattern: 'bench' },
  { type: 'test-support', pattern: 'test-support' },
  { type: 'e2e', pattern: 'e2e' },
].map((element) => ({ ...element, partialMatch: false }));

/** The build and test configurations at the root: files, not folders. */
const FILES = [{ category: 'config', pattern: '*.config.{ts,js}' }];

const TESTS = ['**/*.test.ts', '**/*.test.tsx', '**/*.fixtures.ts'];

/**
 * PACKAGES: where each fenced npm package may be imported. Everywhere else it is an error.
 * Node built-ins stay out of everything that runs in a browser, and out of core and model,
 * which run in both.
 */
const PACKAGES = {
  'node:*': [
    'src/server',
    'src/node',
    'src/cli',
    'src/release',
    'bench',
    'test-support',
    'e2e',
    'config',
  ],
  '@tensorflow/*': ['src/model', 'src/worker', 'src/node', 'src/cli', 'bench'],
  react: ['src/app'],
  'react-dom': ['src/app'],
  'react-dom/*': ['src/app'],
  zustand: ['src/app/stores'],
  idb: ['src/app', 'src/outbox'],
  'workbox-*': ['src/sw', 'src/app', 'config'],
  sharp: ['src/server', 'src/node', 'test-support'],
  fastify: ['src/server', 'test-support', 'config'],
  '@fastify/*': ['src/server'],
  'fastify-*': ['src/server'],
  'better-sqlite3': ['src/server'],
  pg: ['src/server', 'test-support', 'bench'],
  'prom-client': ['src/server'],
  '@playwright/test': ['e2e', 'bench', 'config'],
};

/**
 * Areas that each file belongs to exactly one of (flat config lets a later
 * no-restricted-imports replace an earlier one, so each area gets one complete list).
 * zustand lives in the app's stores: `*-store.ts` files anywhere under src/app.
 */
const AREAS = {
  'src/core': ['src/core/**'],
  'src/model': ['src/model/**'],
  'src/worker': ['src/worker/**'],
  'src/sw': ['src/sw/**'],
  'src/outbox': ['src/outbox/**'],
  'src/app/stores': ['src/app/**/*-store.ts'],
  'src/app': ['src/app/**'],
  'src/server': ['src/server/**'],
  'src/node': ['src/node/**'],
  'src/cli': ['src/cli/**'],
  'src/release': ['src/release/**'],
  bench: ['bench/**'],
  'test-support': ['test-support/**'],
  e2e: ['e2e/**'],
  config: ['*.config.ts', '*.config.js'],
};

/** An area's homes include its parents' (the app's stores may import what the app may). */
function homesOf(area) {
  return area === 'src/app/stores' ? [area, 'src/app'] : [area];
}

function packageRulesFor(area) {
  const homes = homesOf(area);
  return Object.entries(PACKAGES)
    .filter(([, allowed]) => !allowed.some((home) => homes.includes(home)))
    .map(([pattern, allowed]) => ({
      group: [pattern],
      message: `${pattern} belongs in ${allowed.join(', ')} (see "Where new code goes" in the README).`,
    }));
}

const claimed = [];
const packageFences = Object.entries(AREAS).map(([area, files]) => {
  const block = {
    files,
    ignores: [...claimed],
    rules: { 'no-restricted-imports': ['error', { patterns: packageRulesFor(area) }] },
  };
  claimed.push(...files);
  return block;
});

export default tseslint.config(
  {
    ignores: [
      'dist',
      'dist-*',
      'node_modules',
      'test-results',
      'playwright-report',
      'data',
      'bench-results',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Ambient declarations of host globals are `declare var` by nature.
    files: ['**/*.d.ts'],
    rules: { 'no-var': 'off' },
  },
  {
    files: ['src/app/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['**/*.{ts,tsx,js}'],
    plugins: { boundaries, 'import-x': importX },
    settings: {
      'boundaries/elements': ELEMENTS,
      'boundaries/files': FILES,
      'boundaries/include': ['src/**', 'bench/**', 'test-support/**', 'e2e/**', '*.config.*'],
      'import/resolver': { node: { extensions: ['.ts', '.tsx', '.js', '.mjs'] } },
      'import-x/resolver': { node: { extensions: ['.ts', '.tsx', '.js', '.mjs'] } },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies: layerPolicies() }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Tests reach what they test, the shared Node helpers and the test support; still never
    // the other way round, and never a layer their folder must not know (an app test does
    // not load the server).
    files: TESTS,
    rules: {
      'boundaries/dependencies': [
        'error',
        { default: 'disallow', policies: layerPolicies(TEST_EXTRAS) },
      ],
    },
  },
  ...packageFences,
  {
    files: TESTS,
    rules: { 'no-restricted-imports': 'off' },
  },
);
