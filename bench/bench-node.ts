import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TOP_K } from '../src/core/answer';
import { PROJECT_ROOT } from '../src/node/shared-paths';
import type { ModelRegistry } from '../src/node/model-registry';
import { classifyFiles, expandPaths, type ClassifyLine } from '../src/cli/classify-files';
import { openNodeModel } from '../src/node/inference/node-model';
import { round, summarise, type NodeReport, type NodeRunReport } from './bench-report';

/**
 * The Node half of `npm run bench`: the CLI's own code (openNodeModel + classifyFiles)
 * timed in this process without model loading, then `npm run classify`'s command line as
 * a user runs it, start-up included.
 */
export async function runNodeBench(options: {
  /** The registry the bench already loaded, so `openMs` does not include hashing the models again. */
  registry: ModelRegistry;
  photoDir: string;
  batchSizes: number[];
  commandBatchSize: number;
  log: (message: string) => void;
}): Promise<NodeReport> {
  const { log } = options;
  const files = await expandPaths([options.photoDir]);
  const started = performance.now();
  const model = await openNodeModel(options.registry, null);
  if (!model.ok) throw new Error(`${model.error.message} ${model.error.detail ?? ''}`);
  const openMs = performance.now() - started;
  const backend = model.value.engine.backend() ?? 'unknown';
  log(`node: model open on ${backend} in ${openMs.toFixed(0)} ms`);

  const inProcess: NodeRunReport[] = [];
  for (const batchSize of options.batchSizes) {
    const lines: ClassifyLine[] = [];
    const loadAverage1m = round(os.loadavg()[0] ?? 0, 2);
    const runStarted = performance.now();
    const { classified, failed } = await classifyFiles(
      files,
      model.value.engine,
      { topK: DEFAULT_TOP_K, batchSize },
      (line) => lines.push(line),
    );
    const seconds = (performance.now() - runStarted) / 1000;
    inProcess.push({
      batchSize,
      photos: classified,
      failed,
      seconds: round(seconds, 2),
      photosPerSecond: round(classified / seconds, 2),
      msPerPhoto: summarise(lines.flatMap((l) => ('ms' in l ? [l.ms] : []))),
      loadAverage1m,
    });
    log(`node: batch ${batchSize}: ${(classified / seconds).toFixed(1)} photos/s`);
  }

  const argv = [
    '--import',
    'tsx',
    'src/cli/classify.ts',
    '--batch',
    String(options.commandBatchSize),
    path.relative(PROJECT_ROOT, options.photoDir),
  ];
  const commandLoad = round(os.loadavg()[0] ?? 0, 2);
  const command = await timeCommand(process.execPath, argv);
  log(`node: the command took ${command.seconds.toFixed(1)} s for ${command.lines} lines`);
  return {
    backend,
    photoSet: path.relative(PROJECT_ROOT, options.photoDir),
    openMs: round(openMs),
    inProcess,
    command: {
      argv: ['node', ...argv],
      batchSize: options.commandBatchSize,
      photos: command.lines,
      seconds: round(command.seconds, 2),
      photosPerSecond: round(command.lines / command.seconds, 2),
      exitCode: command.exitCode,
      loadAverage1m: commandLoad,
    },
  };
}

/** Runs a command from the project root, counting its output lines; its stderr is discarded. */
function timeCommand(
  executable: string,
  argv: string[],
): Promise<{ seconds: number; lines: number; exitCode: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(executable, argv, {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) lines++;
    });
    child.on('error', reject);
    child.on('close', (exitCode) =>
      resolve({ seconds: (performance.now() - started) / 1000, lines, exitCode }),
    );
  });
}
