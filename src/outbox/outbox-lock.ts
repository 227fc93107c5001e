/**
 * The one lock over the outbox, shared by the page's tabs and the service worker: a send
 * (from reading the due records to recording the server's answer) and the replacement of
 * an unsent verdict never interleave, so a record cannot be withdrawn while it is on the
 * wire. Where Web Locks are missing, a queue in this context keeps at least its own
 * callers apart.
 */

const LOCK_NAME = 'fieldid-outbox';

interface LockManagerLike {
  request<R>(name: string, callback: () => Promise<R>): Promise<R>;
}

let localTail: Promise<unknown> = Promise.resolve();

function withLocalLock<T>(work: () => Promise<T>): Promise<T> {
  const run = localTail.then(work, work);
  localTail = run.catch(() => {});
  return run;
}

export function withOutboxLock<T>(work: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  return locks ? locks.request(LOCK_NAME, work) : withLocalLock(work);
}
