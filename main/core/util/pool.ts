/** Throws the signal's reason as an AbortError when it is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const error = new Error('The operation was cancelled.');
    error.name = 'AbortError';
    throw error;
  }
}

/**
 * Runs `work` over `items` with at most `limit` in flight, in order of start; stops starting new
 * work once the signal aborts and rethrows the first failure.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const runners: Promise<void>[] = [];
  const run = async (): Promise<void> => {
    while (next < items.length) {
      throwIfAborted(signal);
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  for (let i = 0; i < Math.max(1, Math.min(limit, items.length)); i++) runners.push(run());
  await Promise.all(runners);
}
