import type { ApiErrorBody } from '../types.ts';
import { t } from '../i18n/index.ts';

/** A failure in plain words: the core's (or the portal's) sentence, word for word. */
export function ErrorNotice({ error, title }: { error: ApiErrorBody; title?: string }) {
  return (
    <div className="notice notice-error" role="alert" data-code={error.code}>
      <p className="notice-title">{title ?? t('common.error')}</p>
      <p>{error.message}</p>
    </div>
  );
}
