import { WARNING_MESSAGES } from '../../core/errors';
import { AnswerTitle } from '../ui/AnswerTitle';
import { useCameraStore } from './camera-store';

/**
 * The answer for the latest frame, over the preview. A frame with a warning (too dark, too
 * small to tell) shows the warning, not a name: an answer for a covered lens would be a
 * guess dressed as a result. `data-label` is the label line of the answer on show.
 */
export function LiveAnswer() {
  const live = useCameraStore((s) => s.live);
  const captureWaiting = useCameraStore((s) => s.captureWaiting);
  const named = live.state === 'answered' && live.warnings.length === 0;
  return (
    <div
      className="live-answer"
      role="status"
      data-testid="live-answer"
      data-state={live.state}
      data-label={named ? (live.answer.top[0]?.label ?? '') : undefined}
      data-answer-kind={named ? live.answer.kind : undefined}
    >
      {live.state === 'waiting' && <p>{captureWaiting ? 'Capturing…' : 'Identifying…'}</p>}
      {live.state === 'failed' && <p data-code={live.error.code}>{live.error.message}</p>}
      {live.state === 'answered' &&
        (named ? (
          <AnswerTitle as="p" answer={live.answer} summary={live.summary} routing={live.routing} />
        ) : (
          <ul className="live-warnings" data-testid="live-warnings">
            {live.warnings.map((code) => (
              <li key={code} data-code={code}>
                {WARNING_MESSAGES[code]}
              </li>
            ))}
          </ul>
        ))}
    </div>
  );
}
