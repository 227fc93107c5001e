import { useEffect } from 'react';
import { filesFromDataTransfer } from './collect-files';
import { takeFiles } from './intake';

/** Drops anywhere on the page and pastes (files or images on the clipboard) are photos too. */
export function useDropAndPaste(): void {
  useEffect(() => {
    const onDragOver = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
    };
    const onDrop = (event: DragEvent) => {
      if (!event.dataTransfer) return;
      event.preventDefault();
      const startedAt = performance.now();
      void filesFromDataTransfer(event.dataTransfer).then((files) => takeFiles(files, startedAt));
    };
    const onPaste = (event: ClipboardEvent) => {
      const files = Array.from(event.clipboardData?.files ?? []);
      if (files.length === 0) return; // plain text paste into a field stays a text paste
      event.preventDefault();
      takeFiles(files);
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('paste', onPaste);
    };
  }, []);
}
