import { userInfo } from 'node:os';
import { loadConfig } from '../server/config';
import { openModelRegistry, registryOptions } from '../server/registry/open-registry';
import { runModelCommand } from './model-command';

/**
 * npm run model -- <verb> [options] (`npm run model -- help` lists them): the model
 * registry of the server whose environment this runs in (SQLITE_PATH or DATABASE_URL,
 * MODEL_STORE_DIR or MODEL_STORE=database), read and changed through the same service the
 * server uses. Exit status: 0 done, 1 refused or failed, 2 usage error.
 */

/** The operating-system user; some containers run as a uid with no name. */
function osUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER || 'unknown';
  }
}

process.exitCode = await runModelCommand(process.argv.slice(2), {
  out: process.stdout,
  err: process.stderr,
  defaultActor: osUser(),
  // npm runs the script in the package's folder and says where the user was in INIT_CWD.
  cwd: process.env.INIT_CWD ?? process.cwd(),
  async openRegistry() {
    const loaded = loadConfig(process.env);
    if (!loaded.ok)
      throw new Error(`the environment is not a valid configuration: ${loaded.reason}`);
    return openModelRegistry(registryOptions(loaded.config));
  },
});
