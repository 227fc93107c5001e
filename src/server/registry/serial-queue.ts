/**
 * Runs tasks one after another. A SQLite connection has one transaction at a time, and an
 * async transaction yields between its statements: without the queue another call on the
 * same connection would run its statements inside it.
 */
export function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => {});
    return run;
  };
}
