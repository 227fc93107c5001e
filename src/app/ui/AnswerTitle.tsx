import type { Answer } from '../../core/answer';
import type { Routing } from '../../core/cascade';
import type { AnswerSummary } from '../../core/taxonomy-answer';
import { answerText } from './answer-text';

/**
 * An answer's headline: "Bird · Blue Jay <i>Cyanocitta cristata</i>", "A cat (breed
 * unclear)", "Not sure". `data-answer-kind` and `data-path` let tests read what it says.
 */
export function AnswerTitle({
  answer,
  summary,
  routing,
  as: Tag = 'h2',
  id,
}: {
  answer: Answer;
  summary: AnswerSummary | undefined;
  routing?: Routing | undefined;
  as?: 'h2' | 'h3' | 'p' | 'span';
  id?: string;
}) {
  const text = answerText(answer, summary, routing);
  return (
    <Tag
      id={id}
      className="answer-title"
      data-testid="answer-title"
      data-answer-kind={routing?.outsideGroup ? 'outside-group' : (summary?.kind ?? answer.kind)}
      data-path={text.path.join(' > ')}
    >
      {text.context !== null && <span className="answer-context">{text.context} · </span>}
      {text.title}
      {text.scientificName !== null && text.scientificName !== text.title && (
        <>
          , <i className="scientific">{text.scientificName}</i>
        </>
      )}
    </Tag>
  );
}

/** The groups above an answer, broad to narrow ("animal › bird › finch"), or nothing. */
export function AnswerPath({ summary }: { summary: AnswerSummary | undefined }) {
  if (summary === undefined || summary.path.length === 0) return null;
  return (
    <p className="answer-path" data-testid="answer-path">
      {summary.path.join(' › ')}
    </p>
  );
}
