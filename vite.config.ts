import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { modelsPlugin } from './src/server/vite-plugin';

const root = path.dirname(fileURLToPath(import.meta.url));
const modelsDir = path.resolve(root, process.env.MODELS_DIR ?? '../shared/models');

export default defineConfig({
  plugins: [react(), modelsPlugin(modelsDir)],
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
