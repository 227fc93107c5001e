/** SHA-256 as lowercase hex, through WebCrypto (present in pages, workers and Node ≥ 19). */
export async function sha256Hex(data: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether data is exactly the file a manifest describes; the length is compared first so a truncated download is not hashed. */
export async function matchesFile(
  data: ArrayBuffer,
  expected: { bytes: number; sha256: string },
): Promise<boolean> {
  return data.byteLength === expected.bytes && (await sha256Hex(data)) === expected.sha256;
}
