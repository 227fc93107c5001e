/** Hands text to the browser as a file download. */
export function downloadText(text: string, mimeType: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // Revoking at once can cancel the download in some browsers; it has started by then.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
