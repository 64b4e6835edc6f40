/** Keeps the computer from sleeping while an upload runs (Signal's PreventDisplaySleepService). */
import type { PowerSaveBlocker } from 'electron';
import type { KeepAwake } from '../core/app-service/engines.ts';

export function powerSaveKeepAwake(
  blocker: Pick<PowerSaveBlocker, 'start' | 'stop' | 'isStarted'>,
): KeepAwake {
  let id: number | undefined;
  return {
    start() {
      if (id !== undefined && blocker.isStarted(id)) return;
      // The display may sleep; the app (and its network transfer) may not.
      id = blocker.start('prevent-app-suspension');
    },
    stop() {
      if (id !== undefined && blocker.isStarted(id)) blocker.stop(id);
      id = undefined;
    },
  };
}
