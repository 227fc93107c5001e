import type { Answer } from '../../core/answer';
import type { Routing } from '../../core/cascade';
import type { AnswerSummary } from '../../core/taxonomy-answer';

/**
 * What the app says an answer is, in words a field user reads at a glance: the species
 * (with the group that handed it to a specialist: "Bird · Blue Jay"), a group when no
 * species is certain ("A cat (breed unclear)", "A finch, not sure which"), "Not sure", or
 * "No animal recognised". One function for the result panel, the camera overlay, batch
 * cards and the history, so that all of them name a photo alike.
 */
export interface AnswerText {
  /** The group context before the name ("Bird"), when a specialist answered. */
  context: string | null;
  /** The name (or the whole sentence for a group, "not sure" and "no animal"). */
  title: string;
  /** The scientific name, shown in italics after the title, when there is one. */
  scientificName: string | null;
  /** The groups above the answer, broad to narrow, for a details line. */
  path: string[];
}

/** Groups of domestic breeds, whose members are breeds rather than species. */
const BREED_GROUPS = new Set([
  'dog',
  'cat',
  'terrier',
  'hound',
  'retriever',
  'spaniel',
  'sheepdog',
  'poodle',
  'schnauzer',
]);

export function answerText(
  answer: Answer,
  summary: AnswerSummary | undefined,
  routing?: Routing,
): AnswerText {
  if (routing?.outsideGroup) {
    return {
      context: null,
      title: `This does not look like ${article(routing.outsideGroup)} ${routing.outsideGroup}`,
      scientificName: null,
      path: summary?.path ?? [],
    };
  }
  if (summary === undefined) return plainText(answer);
  switch (summary.kind) {
    case 'species':
      return {
        context: routing?.via ? capitalise(routing.via.group) : null,
        title: summary.name ?? answer.top[0]?.name ?? 'Animal',
        scientificName: summary.scientificName,
        path: summary.path,
      };
    case 'group': {
      const name = summary.name ?? 'animal';
      const parent = summary.path.at(-2) ?? 'animal';
      // A genus is named by its Latin name; the group above it says what kind of animal it is.
      const title = BREED_GROUPS.has(name)
        ? `${capitalise(article(name))} ${name} (breed unclear)`
        : summary.scientificName !== null
          ? `${capitalise(article(parent))} ${parent} of the genus ${name}, not sure which`
          : `${capitalise(article(name))} ${name}, not sure which`;
      return {
        context: routing?.via ? capitalise(routing.via.group) : null,
        title,
        scientificName: null,
        path: summary.path,
      };
    }
    case 'not-sure':
      return { context: null, title: 'Not sure', scientificName: null, path: summary.path };
    case 'no-animal':
      return { context: null, title: 'No animal recognised', scientificName: null, path: [] };
  }
}

/** Without groups (an uncatalogued model): the species, "Not sure" or "No animal". */
function plainText(answer: Answer): AnswerText {
  const best = answer.top[0];
  if (answer.kind === 'animal' && best !== undefined) {
    return { context: null, title: best.name, scientificName: best.scientificName, path: [] };
  }
  return {
    context: null,
    title: answer.kind === 'no-animal' ? 'No animal recognised' : 'Not sure',
    scientificName: null,
    path: [],
  };
}

function article(word: string): 'a' | 'an' {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** "a bird", "an insect". */
export function withArticle(group: string): string {
  return `${article(group)} ${group}`;
}

/** "birds", "insects": the group names the catalogue uses are regular nouns. */
export function plural(group: string): string {
  return `${group}s`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
