/**
 * Reads a fetch response to the end, reporting the bytes received so far: download
 * progress for model files, in the inference worker and on the page alike.
 */
/** The part of a fetch Response this needs (core knows no DOM). */
export interface StreamedBody {
  body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } } | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export async function readBody(
  response: StreamedBody,
  onBytes: (received: number) => void,
): Promise<ArrayBuffer> {
  if (response.body === null) return response.arrayBuffer();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done || value === undefined) break;
    chunks.push(value);
    received += value.byteLength;
    onBytes(received);
  }
  const data = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return data.buffer;
}
