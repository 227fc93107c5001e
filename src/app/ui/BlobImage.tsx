import { useEffect, useRef, type ImgHTMLAttributes } from 'react';

/**
 * An image shown from a Blob. The object URL belongs to this element: created when it
 * mounts (or the blob changes) and revoked when it goes, so no store or service has to
 * remember to let go of it.
 */
export function BlobImage({
  blob,
  ...props
}: { blob: Blob } & Omit<ImgHTMLAttributes<HTMLImageElement>, 'src'>) {
  const ref = useRef<HTMLImageElement>(null);
  useEffect(() => {
    const image = ref.current;
    if (image === null) return;
    const url = URL.createObjectURL(blob);
    image.src = url;
    return () => {
      image.removeAttribute('src');
      URL.revokeObjectURL(url);
    };
  }, [blob]);
  return <img ref={ref} {...props} />;
}
