import type { ApiErrorBody } from '../types.ts';
import { errorMessage, t } from '../i18n/index.ts';

/** A failure in plain words: the core's (or the portal's) sentence, in the chosen language. */
export function ErrorNotice({ error, title }: { error: ApiErrorBody; title?: string }) {
  return (
    <div className="notice notice-error" role="alert" data-code={error.code}>
      <p className="notice-title">{title ?? t('common.error')}</p>
      <p>{errorMessage(error)}</p>
    </div>
  );
}
