import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/node/shared-paths';

/**
 * The layer map is held by lint: each case lints one source text as if it stood at a path
 * in the tree, with the project's own ESLint configuration, and expects the rule that must
 * refuse it (or none, for the allowed twin of a refused import).
 */
const eslint = new ESLint({ cwd: PROJECT_ROOT });

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(PROJECT_ROOT, filePath) });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

const LAYER_RULE = 'boundaries/dependencies';
const PACKAGE_RULE = 'no-restricted-imports';

const cases: { name: string; at: string; code: string; refusedBy: string | null }[] = [
  {
    name: 'core importing the server (a relative path)',
    at: 'src/core/probe.ts',
    code: "import { loadConfig } from '../server/config';\nexport const probe = loadConfig;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'core importing core',
    at: 'src/core/probe.ts',
    code: "import { ERROR_MESSAGES } from './errors';\nexport const probe = ERROR_MESSAGES;\n",
    refusedBy: null,
  },
  {
    name: 'model importing the worker',
    at: 'src/model/probe.ts',
    code: "import { decodePhoto } from '../worker/decode-image';\nexport const probe = decodePhoto;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'the page importing worker internals',
    at: 'src/app/probe.ts',
    code: "import { decodePhoto } from '../worker/decode-image';\nexport const probe = decodePhoto;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'the page importing the bridge',
    at: 'src/app/probe.ts',
    code: "import { createInferenceBridge } from '../worker/api/bridge';\nexport const probe = createInferenceBridge;\n",
    refusedBy: null,
  },
  {
    name: 'the server importing model code',
    at: 'src/server/probe.ts',
    code: "import { MICRO_BATCH } from '../model/engine';\nexport const probe = MICRO_BATCH;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'the server importing the Node model loader',
    at: 'src/server/probe.ts',
    code: "import { openNodeModel } from '../node/inference/node-model';\nexport const probe = openNodeModel;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'product code importing test support',
    at: 'src/server/probe.ts',
    code: "import { makeTempDir } from '../../test-support/helpers';\nexport const probe = makeTempDir;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'the release tools importing the server registry and the Node model loader',
    at: 'src/release/probe.ts',
    code: "import { readFile } from 'node:fs/promises';\nimport { openModelRegistry } from '../server/registry/open-registry';\nimport { openNodeModel } from '../node/inference/node-model';\nexport const probe = [readFile, openModelRegistry, openNodeModel];\n",
    refusedBy: null,
  },
  {
    name: 'the server importing the release tools',
    at: 'src/server/probe.ts',
    code: "import { runModelCommand } from '../release/model-command';\nexport const probe = runModelCommand;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'the CLI importing the release tools',
    at: 'src/cli/probe.ts',
    code: "import { runModelCommand } from '../release/model-command';\nexport const probe = runModelCommand;\n",
    refusedBy: LAYER_RULE,
  },
  {
    name: 'TF.js in the release tools (they run the model through src/model)',
    at: 'src/release/probe.ts',
    code: "import * as tf from '@tensorflow/tfjs-core';\nexport const probe = tf;\n",
    refusedBy: PACKAGE_RULE,
  },
  {
    name: 'TF.js in the server',
    at: 'src/server/probe.ts',
    code: "import * as tf from '@tensorflow/tfjs-core';\nexport const probe = tf;\n",
    refusedBy: PACKAGE_RULE,
  },
  {
    name: 'Node built-ins in core',
    at: 'src/core/probe.ts',
    code: "import { readFile } from 'node:fs/promises';\nexport const probe = readFile;\n",
    refusedBy: PACKAGE_RULE,
  },
  {
    name: 'zustand in a component',
    at: 'src/app/Probe.tsx',
    code: "import { create } from 'zustand';\nexport const probe = create;\n",
    refusedBy: PACKAGE_RULE,
  },
  {
    name: 'zustand in a store',
    at: 'src/app/probe-store.ts',
    code: "import { create } from 'zustand';\nexport const probe = create;\n",
    refusedBy: null,
  },
];

describe('the layer map in lint', () => {
  for (const { name, at, code, refusedBy } of cases) {
    it(`${refusedBy ? 'refuses' : 'allows'} ${name}`, async () => {
      const rules = await ruleIdsFor(at, code);
      if (refusedBy) expect(rules).toContain(refusedBy);
      else expect(rules).toEqual([]);
    });
  }

  it('refuses an import cycle', async () => {
    // A cycle needs two real files: lint reads the other side from disk.
    const dir = join(PROJECT_ROOT, 'src/core', `cycle-probe-${process.pid}`);
    await mkdir(dir, { recursive: true });
    try {
      await writeFile(join(dir, 'a.ts'), "import { b } from './b';\nexport const a = () => b;\n");
      await writeFile(join(dir, 'b.ts'), "import { a } from './a';\nexport const b = () => a;\n");
      const [result] = await eslint.lintFiles([join(dir, 'a.ts')]);
      expect(result?.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
