import { z } from 'zod';
import { fail, ok, type Result } from '../core/errors';
import { LABELS_FILE, MODEL_FILE, type ModelFolder } from '../node/model-folder';

/**
 * What model.json says about itself, checked against the card before TF.js sees it: the
 * input and output shapes of its signature, and whether its weight shards hold as many
 * bytes as its weights take. TF.js itself reports a short shard or a wrong shape only as a
 * failed load, without saying which file or figure is wrong; these checks do.
 */

const dimSchema = z.object({ size: z.union([z.string(), z.number()]).optional() });
const tensorSchema = z.object({
  tensorShape: z.object({ dim: z.array(dimSchema).optional() }).optional(),
});
const graphSchema = z.object({
  weightsManifest: z.array(
    z.object({
      paths: z.array(z.string()),
      weights: z.array(
        z.object({
          name: z.string(),
          shape: z.array(z.number().int().nonnegative()),
          dtype: z.string(),
          quantization: z.object({ dtype: z.string() }).optional(),
        }),
      ),
    }),
  ),
  signature: z
    .object({
      inputs: z.record(z.string(), tensorSchema).optional(),
      outputs: z.record(z.string(), tensorSchema).optional(),
    })
    .optional(),
});

/** Bytes per stored value; a string weight has no fixed size and leaves its group unchecked. */
const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

type Tensor = z.infer<typeof tensorSchema>;

/** The dimensions of a signature tensor, -1 for one of any size; null when the signature gives none. */
function dimsOf(tensor: Tensor | undefined): number[] | null {
  const dims = tensor?.tensorShape?.dim;
  return dims === undefined ? null : dims.map((d) => (d.size === undefined ? -1 : Number(d.size)));
}

const fits = (actual: number, wanted: number) => actual === -1 || actual === wanted;

export function checkGraph(folder: ModelFolder): Result<void> {
  const modelFile = folder.files.find((f) => f.path === MODEL_FILE);
  if (modelFile === undefined) return fail('MODEL_INVALID', `${MODEL_FILE} is missing`);
  let graph: z.infer<typeof graphSchema>;
  try {
    const parsed = graphSchema.safeParse(JSON.parse(new TextDecoder().decode(modelFile.data)));
    if (!parsed.success) {
      return fail('MODEL_INVALID', `${MODEL_FILE}: ${z.prettifyError(parsed.error)}`);
    }
    graph = parsed.data;
  } catch {
    return fail('MODEL_INVALID', `${MODEL_FILE} is not JSON`);
  }
  const checks = [
    checkInputShape(folder, graph),
    checkOutputShape(folder, graph),
    checkWeights(folder, graph),
  ];
  return checks.find((check) => !check.ok) ?? ok(undefined);
}

function checkInputShape(folder: ModelFolder, graph: z.infer<typeof graphSchema>): Result<void> {
  const { name, size, channels } = folder.card.input;
  const dims = dimsOf(graph.signature?.inputs?.[name]);
  if (dims === null) return ok(undefined);
  const [, height = NaN, width = NaN, depth = NaN] = dims;
  if (dims.length !== 4 || !fits(height, size) || !fits(width, size) || !fits(depth, channels)) {
    return fail(
      'MODEL_INVALID',
      `${MODEL_FILE}'s input "${name}" is [${dims.join(', ')}], the card says ${size}×${size}×${channels}`,
    );
  }
  return ok(undefined);
}

function checkOutputShape(folder: ModelFolder, graph: z.infer<typeof graphSchema>): Result<void> {
  const outputs = Object.entries(graph.signature?.outputs ?? {});
  if (outputs.length !== 1) return ok(undefined);
  const [name, tensor] = outputs[0]!;
  const classes = dimsOf(tensor)?.at(-1);
  if (classes === undefined || classes === -1 || classes === folder.card.output.classes) {
    return ok(undefined);
  }
  return fail(
    'MODEL_LABELS_MISMATCH',
    `${MODEL_FILE}'s output "${name}" has ${classes} classes, ${LABELS_FILE} has ${folder.labelLines.length} lines`,
  );
}

function checkWeights(folder: ModelFolder, graph: z.infer<typeof graphSchema>): Result<void> {
  const sizes = new Map(folder.files.map((f) => [f.path, f.bytes]));
  for (const group of graph.weightsManifest) {
    let needed = 0;
    for (const weight of group.weights) {
      const perValue = DTYPE_BYTES[weight.quantization?.dtype ?? weight.dtype];
      if (perValue === undefined) {
        needed = NaN;
        break;
      }
      needed += weight.shape.reduce((product, n) => product * n, 1) * perValue;
    }
    const held = group.paths.reduce((sum, path) => sum + (sizes.get(path) ?? 0), 0);
    if (!Number.isNaN(needed) && held !== needed) {
      return fail(
        'MODEL_LOAD_FAILED',
        `${group.paths.join(' + ')}: ${held} bytes, ${MODEL_FILE}'s weights need ${needed}`,
      );
    }
  }
  return ok(undefined);
}
