import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { DEFAULT_MODELS_DIR } from './src/node/shared-paths';
import { modelsPlugin } from './src/server/vite-plugin';

export default defineConfig({
  plugins: [react(), modelsPlugin(DEFAULT_MODELS_DIR)],
  build: {
    target: 'es2022',
    sourcemap: true,
    // Vite 8's default minifier breaks the threaded wasm helper (its inlined worker
    // throws "e is not defined"); esbuild's output works.
    minify: 'esbuild',
    chunkSizeWarningLimit: 3000,
  },
  worker: { format: 'es' },
});
