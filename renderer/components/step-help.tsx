import { useState } from 'react';
import { actions } from '../app-state.ts';
import { t, type MessageKey } from '../i18n/index.ts';
import type { ApiErrorBody, Step } from '../types.ts';
import { ErrorNotice } from './error-notice.tsx';

/**
 * A "?" under each step: what to do here in plain words, and the support file for the help desk
 * (versions and error codes only; main/core/support-bundle.ts).
 */
export function StepHelp({ step }: { step: Step }) {
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiErrorBody | undefined>();
  const save = async (): Promise<void> => {
    setSaved(false);
    setError(undefined);
    const outcome = await actions.saveSupportFile();
    if (outcome === true) setSaved(true);
    else setError(outcome);
  };
  return (
    <details className="step-help no-print" data-testid="step-help">
      <summary>
        <span className="help-mark" aria-hidden="true">
          ?
        </span>{' '}
        {t('help.summary')}
      </summary>
      <div className="step-help-body">
        <p>{t(`help.${step}` as MessageKey)}</p>
        <p>{t('help.support')}</p>
        <button type="button" onClick={() => void save()}>
          {t('help.saveSupport')}
        </button>
        <div role="status">{saved && <p>{t('help.supportSaved')}</p>}</div>
        {error && <ErrorNotice error={error} />}
      </div>
    </details>
  );
}
