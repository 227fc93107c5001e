import Fuse from 'fuse.js';
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Label } from '../../core/labels';
import { SpeciesName } from '../ui/SpeciesName';
import type { VerdictChoice } from './feedback-service';

/** Enough to scan by eye; typing narrows it further. */
const MAX_SHOWN = 40;

export interface PickerResult {
  choice: VerdictChoice;
  sharePhoto: boolean;
}

/**
 * "Which species is it?": a typo-tolerant search over the model's species (common and
 * scientific names), plus "Not an animal" and "Other / unknown species". A modal dialog
 * with a listbox driven from the search field, so it works by keyboard and screen reader.
 */
export function SpeciesPicker({
  species,
  canSharePhoto,
  onDone,
  onCancel,
}: {
  species: Label[];
  canSharePhoto: boolean;
  onDone: (result: PickerResult) => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const [choice, setChoice] = useState<VerdictChoice | null>(null);
  const [otherName, setOtherName] = useState('');
  const [sharePhoto, setSharePhoto] = useState(false);
  const ids = useId();

  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);

  const fuse = useMemo(
    () =>
      new Fuse(species, {
        keys: [
          { name: 'commonName', weight: 2 },
          { name: 'scientificName', weight: 1.5 },
          { name: 'synonyms', weight: 1 },
        ],
        threshold: 0.35,
        ignoreLocation: true,
      }),
    [species],
  );
  const matches = useMemo(
    () =>
      query.trim() === ''
        ? species.slice(0, MAX_SHOWN)
        : fuse.search(query.trim(), { limit: MAX_SHOWN }).map((r) => r.item),
    [fuse, query, species],
  );

  const pick = (label: Label) => setChoice({ kind: 'corrected', correctedLabel: label.line });
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') setActive((a) => Math.min(a + 1, matches.length - 1));
    else if (event.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
    else if (event.key === 'Enter' && matches[active]) pick(matches[active]);
    else return;
    event.preventDefault();
  };
  const finalChoice: VerdictChoice | null =
    choice?.kind === 'unknown-species'
      ? { kind: 'unknown-species', freeTextName: otherName.trim() || null }
      : choice;
  const chosenLine = choice?.kind === 'corrected' ? choice.correctedLabel : null;

  return (
    <dialog ref={dialog} className="picker" aria-labelledby={`${ids}-title`} onCancel={onCancel}>
      <h2 id={`${ids}-title`}>Which species is it?</h2>
      <label htmlFor={`${ids}-search`}>Search species (common or scientific name)</label>
      <input
        id={`${ids}-search`}
        type="search"
        role="combobox"
        aria-expanded="true"
        aria-controls={`${ids}-list`}
        aria-activedescendant={
          matches[active] ? `${ids}-option-${matches[active].index}` : undefined
        }
        autoComplete="off"
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <ul id={`${ids}-list`} role="listbox" aria-label="Species" className="picker-list">
        {matches.map((label, i) => (
          <li
            key={label.index}
            id={`${ids}-option-${label.index}`}
            role="option"
            aria-selected={chosenLine === label.line}
            className={i === active ? 'active' : undefined}
            data-testid="species-option"
            data-label={label.line}
            onClick={() => pick(label)}
          >
            <SpeciesName common={label.commonName} scientific={label.scientificName} />
          </li>
        ))}
        {matches.length === 0 && <li className="muted">No species of this model matches.</li>}
      </ul>
      <div className="row wrap">
        <button
          type="button"
          className="button"
          aria-pressed={choice?.kind === 'not-an-animal'}
          onClick={() => setChoice({ kind: 'not-an-animal' })}
        >
          Not an animal
        </button>
        <button
          type="button"
          className="button"
          aria-pressed={choice?.kind === 'unknown-species'}
          onClick={() => setChoice({ kind: 'unknown-species', freeTextName: null })}
        >
          Other / unknown species
        </button>
      </div>
      {choice?.kind === 'unknown-species' && (
        <label className="block">
          Its name, if you know it (optional){' '}
          <input
            type="text"
            maxLength={100}
            value={otherName}
            onChange={(event) => setOtherName(event.target.value)}
          />
        </label>
      )}
      {canSharePhoto && (
        <label className="choice">
          <input
            type="checkbox"
            checked={sharePhoto}
            onChange={(event) => setSharePhoto(event.target.checked)}
          />
          <span>
            Also send the photo: a copy reduced to 512 px, with no location or camera data, helps
            train the next model.
          </span>
        </label>
      )}
      <p className="muted small" aria-live="polite">
        {choice === null
          ? 'Choose a species or one of the options above.'
          : choice.kind === 'corrected'
            ? `Chosen: ${species.find((s) => s.line === choice.correctedLabel)?.commonName ?? choice.correctedLabel}`
            : choice.kind === 'not-an-animal'
              ? 'Chosen: not an animal'
              : 'Chosen: another species'}
      </p>
      <div className="row">
        <button
          type="button"
          className="button primary"
          disabled={finalChoice === null}
          onClick={() => finalChoice && onDone({ choice: finalChoice, sharePhoto })}
        >
          Save correction
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
