import { actions, useFlow } from '../app-state.ts';
import { t, type MessageKey } from '../i18n/index.ts';
import { FLOW_STEPS, reachableSteps } from '../store.ts';

/** The six steps, in order; a step is a button once what it needs exists. */
export function StepNav() {
  const step = useFlow((s) => s.step);
  const reachable = useFlow(reachableSteps);
  const kiosk = useFlow((s) => s.info?.kiosk ?? false);
  return (
    <nav aria-label={t('nav.label')} className="steps">
      <ol>
        {FLOW_STEPS.map((name, index) => {
          const label = t('nav.step', { n: index + 1, name: t(`step.${name}` as MessageKey) });
          const current = step === name;
          return (
            <li key={name} className={current ? 'current' : undefined}>
              <button
                type="button"
                aria-current={current ? 'step' : undefined}
                disabled={!reachable.has(name)}
                onClick={() => actions.goTo(name)}
              >
                <span className="step-number" aria-hidden="true">
                  {index + 1}
                </span>
                <span className="visually-hidden">{label}</span>
                <span aria-hidden="true">{t(`step.${name}` as MessageKey)}</span>
              </button>
            </li>
          );
        })}
      </ol>
      {!kiosk && (
        <button
          type="button"
          className="history-button"
          aria-current={step === 'history' ? 'page' : undefined}
          onClick={() => {
            actions.goTo('history');
            void actions.loadHistory();
          }}
        >
          {t('nav.history')}
        </button>
      )}
    </nav>
  );
}
