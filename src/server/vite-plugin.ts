import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Connect, Plugin } from 'vite';
import { createModelResponder, SECURITY_HEADERS, type ModelResponse } from './model-http';
import { folderSource } from './model-source';
import { loadModelRegistry } from '../node/model-registry';

/**
 * Makes `vite` (dev) and `vite preview` serve /models exactly like the production server,
 * through the same responder, and send the cross-origin isolation headers on every
 * response. They serve MODELS_DIR itself, stable only, read when the server starts (restart
 * to pick up a new model): channels and rollouts are the production server's, from the registry.
 */
export function modelsPlugin(modelsDir: string): Plugin {
  const install = async (server: { middlewares: Connect.Server }): Promise<void> => {
    const respond = createModelResponder(folderSource(await loadModelRegistry(modelsDir)));
    // Added directly (not in a returned post hook), so these run before Vite's own middleware.
    server.middlewares.use((_req, res, next) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      next();
    });
    server.middlewares.use((req, res, next) => {
      const response = respond(req);
      if (!response) return next();
      send(req, res, response).catch(next);
    });
  };
  return { name: 'fieldid-models', configureServer: install, configurePreviewServer: install };
}

async function send(
  req: IncomingMessage,
  res: ServerResponse,
  response: ModelResponse,
): Promise<void> {
  const withBody = req.method !== 'HEAD';
  // Opened before the head is written, as the server does (routes/models.ts): a file that
  // cannot be sent gets an error, never the file's cache headers.
  const opened = response.kind === 'file' ? await response.file.open() : null;
  const body = withBody ? opened : null;
  if (!withBody && opened !== null && !(opened instanceof Uint8Array)) opened.destroy();
  res.writeHead(response.status, response.headers);
  if (body instanceof Uint8Array) res.end(body);
  else if (body) await pipeline(body, res);
  else res.end(response.kind === 'text' && withBody ? response.body : undefined);
}
