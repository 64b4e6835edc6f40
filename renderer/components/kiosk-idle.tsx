import { useEffect, useId, useRef, useState } from 'react';
import { actions, useFlow } from '../app-state.ts';
import { formatDuration, t } from '../i18n/index.ts';
import { idlePhase, idleResetApplies, type IdlePhase } from '../kiosk-idle.ts';

/** What counts as someone being there: any key, click, touch, scroll or typing. */
const INPUT_EVENTS = ['keydown', 'pointerdown', 'wheel', 'touchstart', 'input'] as const;

/**
 * Kiosk: after a while without input, a dialog counts down to the start screen; any key or click
 * cancels it. At zero the app returns to the start and the core forgets the person.
 */
export function KioskIdle({ idleSeconds }: { idleSeconds: number }) {
  const applies = useFlow(idleResetApplies);
  const lastInput = useRef(Date.now());
  const [phase, setPhase] = useState<IdlePhase>({ kind: 'active' });
  const stay = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const bodyId = useId();

  useEffect(() => {
    const onInput = (): void => {
      lastInput.current = Date.now();
      setPhase((current) => (current.kind === 'active' ? current : { kind: 'active' }));
    };
    for (const name of INPUT_EVENTS) {
      window.addEventListener(name, onInput, { capture: true, passive: true });
    }
    return () => {
      for (const name of INPUT_EVENTS) window.removeEventListener(name, onInput, { capture: true });
    };
  }, []);

  useEffect(() => {
    setPhase({ kind: 'active' });
    if (!applies) return undefined;
    // Counted from when there is something to end (an upload that just finished, for example).
    lastInput.current = Date.now();
    const timer = setInterval(() => {
      const next = idlePhase(Date.now() - lastInput.current, idleSeconds);
      if (next.kind === 'expired') {
        lastInput.current = Date.now();
        setPhase({ kind: 'active' });
        void actions.resetKiosk();
        return;
      }
      setPhase((current) =>
        current.kind === next.kind &&
        (next.kind !== 'warning' ||
          (current.kind === 'warning' && current.secondsLeft === next.secondsLeft))
          ? current
          : next,
      );
    }, 250);
    return () => clearInterval(timer);
  }, [applies, idleSeconds]);

  const warning = phase.kind === 'warning';
  useEffect(() => {
    if (warning) stay.current?.focus();
  }, [warning]);

  if (phase.kind !== 'warning') return null;
  return (
    <div className="dialog-backdrop no-print">
      <div
        className="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={bodyId}
        data-testid="kiosk-idle"
      >
        <h2 id={titleId}>{t('kiosk.idleTitle')}</h2>
        <p id={bodyId}>{t('kiosk.idleBody', { time: formatDuration(phase.secondsLeft) })}</p>
        <p className="help">{t('kiosk.idleHint')}</p>
        <button
          type="button"
          className="primary"
          ref={stay}
          onClick={() => setPhase({ kind: 'active' })}
        >
          {t('kiosk.idleStay')}
        </button>
      </div>
    </div>
  );
}
