import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import path from 'node:path';
import { DEFAULT_MODELS_DIR, PROJECT_ROOT as root } from './src/node/shared-paths';
import { modelsPlugin } from './src/server/vite-plugin';
import { VitePWA } from 'vite-plugin-pwa';
import { readFileSync } from 'node:fs';
import { webManifest } from './src/app/web-manifest';

const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
};
/** Shown in Settings; a deployment can add its own build id (the update e2e test does). */
const appVersion = process.env.APP_BUILD_ID ? `${version}+${process.env.APP_BUILD_ID}` : version;

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(appVersion) },
  plugins: [
    react(),
    modelsPlugin(DEFAULT_MODELS_DIR),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      // Registered by the page through workbox-window (src/app/pwa/pwa.ts).
      injectRegister: false,
      registerType: 'prompt',
      includeManifestIcons: false,
      manifest: webManifest,
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png,wasm,webmanifest}'],
        globIgnores: ['bench.html', 'assets/bench-*', 'screenshots/**', 'manifest.webmanifest'],
        // Precached on purpose: the inference worker chunk (TF.js with its backends, ~1.6 MB)
        // sits close to Workbox's 2 MiB default, and a chunk over the limit would be left
        // out of the precache with only a build warning, so the limit has headroom. Model
        // shards are never precached; they are cached per version on first use.
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
  build: {
    target: 'es2022',
    sourcemap: true,
    // Vite 8's default minifier breaks the threaded wasm helper (its inlined worker
    // throws "e is not defined"); esbuild's output works.
    minify: 'esbuild',
    chunkSizeWarningLimit: 3000,
    rolldownOptions: {
      // bench.html is the diagnostics page `npm run bench` drives; the app never loads it.
      input: { index: path.resolve(root, 'index.html'), bench: path.resolve(root, 'bench.html') },
    },
  },
  worker: { format: 'es' },
});
