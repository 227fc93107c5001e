import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Connect, Plugin } from 'vite';
import {
  createModelResponder,
  openModelFile,
  SECURITY_HEADERS,
  type ModelResponse,
} from './model-http';
import { loadModelRegistry } from '../node/model-registry';

/**
 * Makes `vite` (dev) and `vite preview` serve /models exactly like the production server,
 * from the same registry and responder, and send the cross-origin isolation headers on
 * every response. The registry is built when the server starts; restart to pick up a new model.
 */
export function modelsPlugin(modelsDir: string): Plugin {
  const install = async (server: { middlewares: Connect.Server }): Promise<void> => {
    const respond = createModelResponder(await loadModelRegistry(modelsDir));
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
  const stream = response.kind === 'file' && withBody ? await openModelFile(response.file) : null;
  res.writeHead(response.status, response.headers);
  if (stream) await pipeline(stream, res);
  else res.end(response.kind === 'text' && withBody ? response.body : undefined);
}
