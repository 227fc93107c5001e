import { distinctScientificName } from '../../core/labels';

/** A common name, with the scientific name in italics when it says something more. */
export function SpeciesName({ common, scientific }: { common: string; scientific: string | null }) {
  const extra = distinctScientificName(common, scientific);
  return (
    <>
      {common}
      {extra !== null && <i> {extra}</i>}
    </>
  );
}
