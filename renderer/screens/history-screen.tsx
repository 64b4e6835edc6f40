import { actions, useFlow } from '../app-state.ts';
import { Screen } from '../components/screen.tsx';
import { formatBytes, formatDateTime, historyStatus, t } from '../i18n/index.ts';

export function HistoryScreen() {
  const history = useFlow((s) => s.history);
  const link = useFlow((s) => s.link);
  return (
    <Screen title={t('history.title')}>
      {history.length === 0 ? (
        <p>{t('history.empty')}</p>
      ) : (
        <table className="history">
          <caption>{t('history.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('history.col.date')}</th>
              <th scope="col">{t('history.col.to')}</th>
              <th scope="col">{t('history.col.what')}</th>
              <th scope="col">{t('history.col.status')}</th>
              <th scope="col">{t('history.col.reference')}</th>
            </tr>
          </thead>
          <tbody>
            {history.map((entry) => (
              <tr key={entry.transferId}>
                <td>{formatDateTime(entry.startedAt)}</td>
                <td>
                  {[entry.provider.name, entry.provider.organization].filter(Boolean).join(', ')}
                </td>
                <td>
                  {t('common.studies', { count: entry.studies })},{' '}
                  {t('common.images', { count: entry.instances })} ({formatBytes(entry.bytes)})
                </td>
                <td>{historyStatus(entry)}</td>
                <td>
                  {link && entry.portal === link.portal ? (
                    <button
                      type="button"
                      className="link-button"
                      aria-label={t('history.check', { reference: entry.transferId })}
                      onClick={() => void actions.showTransfer(entry.transferId)}
                    >
                      {entry.transferId}
                    </button>
                  ) : (
                    entry.transferId
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button type="button" onClick={() => actions.goTo(link ? 'media' : 'link')}>
        {t('history.back')}
      </button>
    </Screen>
  );
}
