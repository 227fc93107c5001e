import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Prediction } from '../../core/answer';
import { percent } from '../ui/PredictionList';
import { SpeciesName } from '../ui/SpeciesName';
import type { VerdictChoice } from './feedback-service';
import {
  candidatesOf,
  createSpeciesSearch,
  groupFiltersFor,
  matchedOtherName,
  pickerSections,
  type GroupFilter,
  type SpeciesList,
} from './species-list';
import './species-picker.css';

/** How far Page Up / Page Down move the active option: about one screenful of rows. */
const PAGE_ROWS = 8;

export interface PickerResult {
  choice: VerdictChoice;
  sharePhoto: boolean;
}

/**
 * "Which species is it?": opens on the photo's own candidates and the groups of its
 * answer, with a typo-tolerant search over every species of the model (names people use,
 * other names, scientific names, groups), plus "Not an animal" and "Other / unknown
 * species". A modal dialog with a listbox driven from the search field (the combobox
 * pattern), so that it works by keyboard and screen reader alone.
 */
export function SpeciesPicker({
  list,
  top,
  answerPath,
  canSharePhoto,
  onDone,
  onCancel,
}: {
  list: SpeciesList;
  /** The photo's candidates, most likely first. */
  top: readonly Prediction[];
  /** The groups of the photo's answer, broad to narrow, when the caller knows them. */
  answerPath?: readonly string[] | undefined;
  canSharePhoto: boolean;
  onDone: (result: PickerResult) => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState('');
  const [group, setGroup] = useState<GroupFilter | null>(null);
  const [active, setActive] = useState(0);
  const [choice, setChoice] = useState<VerdictChoice | null>(null);
  const [otherName, setOtherName] = useState('');
  const [sharePhoto, setSharePhoto] = useState(false);
  const ids = useId();
  // A dialog can end in several ways at once (Escape, then the close that follows it, then
  // the close on unmount); the caller hears of the first only.
  const settled = useRef(false);
  const finish = (result: PickerResult | null) => {
    if (settled.current) return;
    settled.current = true;
    if (result === null) onCancel();
    else onDone(result);
  };

  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    search.current?.focus();
    return () => element?.close();
  }, []);

  const find = useMemo(() => createSpeciesSearch(list.species), [list]);
  const candidates = useMemo(() => candidatesOf(list, top), [list, top]);
  const groups = useMemo(
    () => groupFiltersFor(list, candidates, answerPath),
    [list, candidates, answerPath],
  );
  const probabilities = useMemo(() => new Map(top.map((p) => [p.index, p.probability])), [top]);
  const sections = useMemo(
    () => pickerSections({ list, search: find, candidates, query, group }),
    [list, find, candidates, query, group],
  );
  const options = sections.flatMap((section) => section.species);
  const activeIndex = Math.min(active, options.length - 1);
  const activeOption = options[activeIndex];
  const optionId = (index: number) => `${ids}-option-${index}`;
  const activeId = activeOption ? optionId(activeOption.index) : undefined;

  useEffect(() => {
    // The active row is where the keyboard is: it must never sit below the fold.
    if (activeId !== undefined)
      document.getElementById(activeId)?.scrollIntoView({ block: 'nearest' });
  }, [activeId]);

  const pick = (index: number) => {
    const species = options[index];
    if (species === undefined) return;
    setActive(index);
    setChoice({ kind: 'corrected', correctedLabel: species.line });
  };
  const move = (to: number) => setActive(Math.max(0, Math.min(to, options.length - 1)));
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') move(activeIndex + 1);
    else if (event.key === 'ArrowUp') move(activeIndex - 1);
    else if (event.key === 'PageDown') move(activeIndex + PAGE_ROWS);
    else if (event.key === 'PageUp') move(activeIndex - PAGE_ROWS);
    else if (event.key === 'Enter' && activeOption) pick(activeIndex);
    // A search field's own Escape only clears it; here Escape always closes the dialog.
    else if (event.key === 'Escape') finish(null);
    else return;
    event.preventDefault();
  };
  const chooseGroup = (filter: GroupFilter | null) => {
    setGroup(filter);
    setActive(0);
  };

  const finalChoice: VerdictChoice | null =
    choice?.kind === 'unknown-species'
      ? { kind: 'unknown-species', freeTextName: otherName.trim() || null }
      : choice;
  const chosenLine = choice?.kind === 'corrected' ? choice.correctedLabel : null;
  const chosenName =
    chosenLine === null
      ? null
      : (list.species.find((s) => s.line === chosenLine)?.name ?? chosenLine);
  const sectionStarts = sections.map((_, i) =>
    sections.slice(0, i).reduce((sum, section) => sum + section.species.length, 0),
  );

  return (
    <dialog
      ref={dialog}
      className="picker"
      aria-labelledby={`${ids}-title`}
      onCancel={(event) => {
        event.preventDefault();
        finish(null);
      }}
      // Without a recent user gesture the browser closes a dialog on Escape with no cancel event.
      onClose={() => finish(null)}
    >
      <h2 id={`${ids}-title`}>Which species is it?</h2>
      <label htmlFor={`${ids}-search`}>
        Search species (name, other name, scientific name or group)
      </label>
      <input
        ref={search}
        id={`${ids}-search`}
        className="picker-search"
        type="search"
        role="combobox"
        aria-expanded="true"
        aria-autocomplete="list"
        aria-controls={`${ids}-list`}
        aria-activedescendant={activeId}
        autoComplete="off"
        spellCheck={false}
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      {groups.length > 0 && (
        <div className="picker-groups" role="group" aria-label="Show a group of this answer">
          {groups.map((filter) => {
            const pressed = group?.path.join('>') === filter.path.join('>');
            return (
              <button
                key={filter.path.join('>')}
                type="button"
                className="picker-group"
                aria-pressed={pressed}
                data-testid="picker-group"
                data-group={filter.name}
                onClick={() => chooseGroup(pressed ? null : filter)}
              >
                {filter.name} <span className="picker-group-count">{filter.count}</span>
              </button>
            );
          })}
        </div>
      )}
      {/* Mounted before its text: a live region inserted with its text may not be read. */}
      <p className="visually-hidden" role="status">
        {options.length === 0 ? 'No species matches.' : `${options.length} species shown.`}
      </p>
      <div id={`${ids}-list`} role="listbox" aria-label="Species" className="picker-list">
        {sections.map((section, sectionAt) => (
          <div
            key={section.key}
            role="group"
            aria-labelledby={`${ids}-${section.key}`}
            data-section={section.key}
          >
            <div role="presentation" id={`${ids}-${section.key}`} className="picker-section-title">
              {section.title}
            </div>
            {section.species.map((species, i) => {
              const at = (sectionStarts[sectionAt] ?? 0) + i;
              const other = matchedOtherName(species, query);
              const probability =
                section.key === 'candidates' ? probabilities.get(species.index) : undefined;
              return (
                <div
                  key={species.index}
                  id={optionId(species.index)}
                  role="option"
                  aria-selected={chosenLine === species.line}
                  className={at === activeIndex ? 'picker-option active' : 'picker-option'}
                  data-testid="species-option"
                  data-label={species.line}
                  onClick={() => pick(at)}
                >
                  <span className="picker-option-name">
                    <SpeciesName common={species.name} scientific={species.scientificName} />
                    {other !== null && <span className="picker-option-note"> ({other})</span>}
                  </span>
                  {probability !== undefined && (
                    <span className="picker-option-note">{percent(probability)}</span>
                  )}
                </div>
              );
            })}
          </div>
        ))}
      </div>
      {options.length === 0 && (
        <p className="picker-empty muted">
          No species of this model matches. Try another name, or choose “Other / unknown species”.
        </p>
      )}
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
      <p className="muted small" aria-live="polite" data-testid="picker-choice">
        {choice === null
          ? 'Choose a species or one of the options above.'
          : choice.kind === 'corrected'
            ? `Chosen: ${chosenName}`
            : choice.kind === 'not-an-animal'
              ? 'Chosen: not an animal'
              : 'Chosen: another species'}
      </p>
      <div className="row">
        <button
          type="button"
          className="button primary"
          disabled={finalChoice === null}
          onClick={() => finalChoice && finish({ choice: finalChoice, sharePhoto })}
        >
          Save correction
        </button>
        <button type="button" className="button" onClick={() => finish(null)}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
