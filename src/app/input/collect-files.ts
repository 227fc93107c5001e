/**
 * Turns whatever the user handed over (a file list, a drop with folders, a paste) into a
 * flat list of files, in a stable order. Folder traversal uses the File System Entries API
 * that every current browser offers for drops.
 */

/** Dropped folders often hold notes and spreadsheets; only these are worth trying. */
function looksLikePhoto(file: File): boolean {
  if (file.name.startsWith('.')) return false; // .DS_Store, ._AppleDouble
  return file.type === '' || file.type.startsWith('image/');
}

export function filesFromList(list: FileList | null | undefined): File[] {
  return list ? Array.from(list) : [];
}

/** A chosen folder arrives flat, in no promised order: sort by path, skip non-photos. */
export function filesFromFolderInput(list: FileList | null | undefined): File[] {
  return filesFromList(list)
    .filter(looksLikePhoto)
    .sort((a, b) =>
      a.webkitRelativePath < b.webkitRelativePath
        ? -1
        : a.webkitRelativePath > b.webkitRelativePath
          ? 1
          : 0,
    );
}

export async function filesFromDataTransfer(data: DataTransfer): Promise<File[]> {
  const entries = Array.from(data.items)
    .filter((item) => item.kind === 'file')
    .map((item) => ({ entry: item.webkitGetAsEntry?.() ?? null, file: item.getAsFile() }));
  const files: File[] = [];
  for (const { entry, file } of entries) {
    if (entry?.isDirectory) files.push(...(await readDirectory(entry as FileSystemDirectoryEntry)));
    else if (file !== null) files.push(file);
  }
  return files;
}

async function readDirectory(directory: FileSystemDirectoryEntry): Promise<File[]> {
  const children = await readAllEntries(directory.createReader());
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: File[] = [];
  for (const child of children) {
    if (child.isDirectory) files.push(...(await readDirectory(child as FileSystemDirectoryEntry)));
    else {
      const file = await new Promise<File>((resolve, reject) =>
        (child as FileSystemFileEntry).file(resolve, reject),
      );
      if (looksLikePhoto(file)) files.push(file);
    }
  }
  return files;
}

/** `readEntries` returns at most 100 entries per call; keep reading until it returns none. */
async function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
