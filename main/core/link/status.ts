/**
 * Following a committed transfer: the portal's status, read until it is final (available,
 * failed, expired, revoked), each new timeline handed to the caller to show and keep.
 */
import { isFerryError } from '../errors.ts';
import type { LinkClient } from './client.ts';
import { sleep } from './http.ts';
import type { TransferStatus } from './model.ts';

export interface FollowOptions {
  readonly signal?: AbortSignal;
  /** Between reads; default 2 s. */
  readonly intervalMs?: number;
  /** Give up following (not the transfer) after this long; default 30 min. */
  readonly timeoutMs?: number;
  /** Called on each status whose timeline changed. */
  readonly onStatus?: (status: TransferStatus) => void | Promise<void>;
}

/** Reads the status until it is terminal or the time is up; returns the last status read. */
export async function followStatus(
  client: LinkClient,
  statusUrl: string,
  options: FollowOptions = {},
): Promise<TransferStatus> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let lastKey = '';
  let last: TransferStatus | undefined;
  for (;;) {
    try {
      const status = await client.transferStatus(statusUrl);
      last = status;
      const key = `${status.state}|${status.timeline.length}|${status.message}`;
      if (key !== lastKey) {
        lastKey = key;
        await options.onStatus?.(status);
      }
      if (status.terminal) return status;
    } catch (error) {
      // A dead link still reads its status (read-only); anything else but the network is final.
      if (!isFerryError(error, 'retries-exhausted') || last === undefined) throw error;
    }
    if (Date.now() >= deadline && last !== undefined) return last;
    await sleep(options.intervalMs ?? 2000, options.signal);
  }
}
