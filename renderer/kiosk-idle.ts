/**
 * Kiosk inactivity, as plain functions so they are tested on Node: after `idleSeconds` without a
 * key, click or touch the UI warns with a countdown, and when it runs out the app returns to the
 * start and the core removes everything of the person (session.reset). Never while images are
 * being sent, and not on an empty start screen where there is nothing to remove.
 */
import { isUploadFinished, type FlowState } from './store.ts';

/** The warning's countdown: 30 seconds, shorter only when the idle time itself is shorter. */
export const WARNING_SECONDS = 30;

export function countdownSeconds(idleSeconds: number): number {
  return Math.max(1, Math.min(WARNING_SECONDS, idleSeconds));
}

export type IdlePhase =
  | { readonly kind: 'active' }
  | { readonly kind: 'warning'; readonly secondsLeft: number }
  | { readonly kind: 'expired' };

export function idlePhase(elapsedMs: number, idleSeconds: number): IdlePhase {
  const idleMs = idleSeconds * 1000;
  if (elapsedMs < idleMs) return { kind: 'active' };
  const secondsLeft = Math.ceil((idleMs + countdownSeconds(idleSeconds) * 1000 - elapsedMs) / 1000);
  return secondsLeft > 0 ? { kind: 'warning', secondsLeft } : { kind: 'expired' };
}

/**
 * Whether there is a person's session to end: kiosk mode, something of theirs, and Ferry is not
 * busy for them (sending images or reading the disc).
 */
export function idleResetApplies(state: FlowState): boolean {
  if (!state.info?.kiosk) return false;
  if (state.upload && !isUploadFinished(state.upload)) return false;
  // Reading a large disc can take minutes without anyone touching the screen.
  if (state.scanning) return false;
  return (
    state.step !== 'link' ||
    state.link !== undefined ||
    state.linkError !== undefined ||
    state.mediaPath !== undefined ||
    state.scan !== undefined ||
    state.upload !== undefined
  );
}
