import { z } from 'zod';
import { fail, ok, type Result } from '../core/errors';
import { graphModelSchema, MODEL_FILE, type ModelFolder } from '../node/model-folder';

/**
 * What model.json says about itself, checked against the card before TF.js sees it: the
 * input shape of its signature, and whether its weight shards hold as many bytes as its
 * weights take. TF.js itself reports a short shard or a wrong shape only as a failed load,
 * without saying which file or figure is wrong; these checks do. The size of the output is
 * not read here but from the graph's real output (validate-folder.ts): a signature may be
 * absent, or wrong.
 */

const dimSchema = z.object({ size: z.union([z.string(), z.number()]).optional() });
const tensorSchema = z.object({
  tensorShape: z.object({ dim: z.array(dimSchema).optional() }).optional(),
});
const weightsGroupSchema = graphModelSchema.shape.weightsManifest.element.extend({
  weights: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int().nonnegative()),
      dtype: z.string(),
      quantization: z.object({ dtype: z.string() }).optional(),
    }),
  ),
});

/** model.json as reading a folder parses it, with what these checks need besides. */
const graphSchema = graphModelSchema.extend({
  weightsManifest: z.array(weightsGroupSchema).min(1),
  signature: graphModelSchema.shape.signature
    .unwrap()
    .extend({ inputs: z.record(z.string(), tensorSchema) })
    .optional(),
});

type Graph = z.infer<typeof graphSchema>;

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
  let graph: Graph;
  try {
    const parsed = graphSchema.safeParse(JSON.parse(new TextDecoder().decode(modelFile.data)));
    if (!parsed.success) {
      return fail('MODEL_INVALID', `${MODEL_FILE}: ${z.prettifyError(parsed.error)}`);
    }
    graph = parsed.data;
  } catch {
    return fail('MODEL_INVALID', `${MODEL_FILE} is not JSON`);
  }
  const checks = [checkInputShape(folder, graph), checkWeights(folder, graph)];
  return checks.find((check) => !check.ok) ?? ok(undefined);
}

function checkInputShape(folder: ModelFolder, graph: Graph): Result<void> {
  const { name, size, channels } = folder.card.input;
  const dims = dimsOf(graph.signature?.inputs[name]);
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

function checkWeights(folder: ModelFolder, graph: Graph): Result<void> {
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

// ---- The shape probe -------------------------------------------------------------------

const nodeSchema = z.looseObject({ name: z.string(), input: z.array(z.string()).optional() });
const topologySchema = z.looseObject({
  modelTopology: z.looseObject({ node: z.array(nodeSchema) }),
  signature: z
    .looseObject({ outputs: z.record(z.string(), z.looseObject({ name: z.string() })).optional() })
    .optional(),
});

/** "output:0", "^output" → "output": a node input names a node, an output of it, or a control edge. */
const nodeOf = (input: string) => input.replace(/^\^/, '').replace(/:\d+$/, '');

/**
 * The node whose value the graph model returns: its signature's only output, or without a
 * signature the only node nothing else reads (as TF.js takes it). Null when there is not
 * exactly one.
 */
export function graphOutputNode(graph: unknown): string | null {
  const parsed = topologySchema.safeParse(graph);
  if (!parsed.success) return null;
  const { modelTopology, signature } = parsed.data;
  const outputs = Object.values(signature?.outputs ?? {});
  if (outputs.length === 1) return nodeOf(outputs[0]!.name);
  if (outputs.length > 1) return null;
  const read = new Set(modelTopology.node.flatMap((node) => (node.input ?? []).map(nodeOf)));
  const sinks = modelTopology.node.filter((node) => !read.has(node.name));
  return sinks.length === 1 ? sinks[0]!.name : null;
}

const PROBE = 'fieldid_shape_probe';

/**
 * model.json with three nodes after `output` that turn its shape into the graph's only
 * output, one row of two values: [batch, values per photo] for an output of the usual
 * [batch, classes]. Run as a model of two classes, it tells the size the graph gives
 * whatever its labels or card say. The signature goes, so that TF.js returns the probe.
 */
export function withShapeProbe(graph: unknown, output: string): unknown {
  const parsed = topologySchema.parse(graph);
  const probe = [
    {
      name: `${PROBE}/shape`,
      op: 'Shape',
      input: [output],
      attr: { T: { type: 'DT_FLOAT' }, out_type: { type: 'DT_INT32' } },
    },
    {
      name: `${PROBE}/float`,
      op: 'Cast',
      input: [`${PROBE}/shape`],
      attr: { SrcT: { type: 'DT_INT32' }, DstT: { type: 'DT_FLOAT' } },
    },
    {
      name: `${PROBE}/row`,
      op: 'Pack',
      input: [`${PROBE}/float`],
      attr: { N: { i: '1' }, axis: { i: '0' }, T: { type: 'DT_FLOAT' } },
    },
  ];
  const probed: Record<string, unknown> = {
    ...parsed,
    modelTopology: { ...parsed.modelTopology, node: [...parsed.modelTopology.node, ...probe] },
  };
  delete probed.signature;
  return probed;
}
