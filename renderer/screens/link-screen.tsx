import { useId, useState, type FormEvent } from 'react';
import { actions, useFlow } from '../app-state.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { PolicySummary } from '../components/policy-summary.tsx';
import { Screen } from '../components/screen.tsx';
import {
  errorMessage,
  formatDateTime,
  formatDicomDate,
  formatPersonName,
  portalSentence,
  t,
  type MessageKey,
} from '../i18n/index.ts';
import type { ApiErrorBody, LinkView } from '../types.ts';

const DEAD_LINK: Record<string, MessageKey> = {
  'link-expired': 'link.expiredTitle',
  'link-revoked': 'link.revokedTitle',
  'link-unknown': 'link.unknownTitle',
};

export function LinkScreen() {
  const link = useFlow((s) => s.link);
  const error = useFlow((s) => s.linkError);
  const busy = useFlow((s) => s.linkBusy);
  const dead = error ? DEAD_LINK[error.code] : undefined;
  if (error && dead) return <DeadLink title={t(dead)} error={error} />;
  if (link) return <LinkDetails link={link} />;
  return <LinkForm busy={busy} error={error} />;
}

function LinkForm({ busy, error }: { busy: boolean; error: ApiErrorBody | undefined }) {
  const [url, setUrl] = useState('');
  const fieldId = useId();
  const helpId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (url.trim() !== '') void actions.openLink(url);
  };
  return (
    <Screen title={t('link.title')}>
      <p>{t('link.intro')}</p>
      <form onSubmit={submit} className="stack">
        <label htmlFor={fieldId}>{t('link.field')}</label>
        <input
          id={fieldId}
          type="url"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          required
          aria-describedby={helpId}
          aria-invalid={error ? true : undefined}
          value={url}
          onChange={(event) => setUrl(event.target.value)}
        />
        <p id={helpId} className="help">
          {t('link.fieldHelp')}
        </p>
        <div>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('link.opening') : t('link.open')}
          </button>
        </div>
      </form>
      {error && <ErrorNotice error={error} />}
    </Screen>
  );
}

function DeadLink({ title, error }: { title: string; error: ApiErrorBody }) {
  return (
    <Screen title={title}>
      <div className="notice notice-error" data-code={error.code}>
        <p>{errorMessage(error)}</p>
      </div>
      <p>{t('link.deadHelp')}</p>
      <button type="button" onClick={() => void actions.forgetLink()}>
        {t('link.tryAnother')}
      </button>
    </Screen>
  );
}

function LinkDetails({ link }: { link: LinkView }) {
  const provider = [link.provider.name, link.provider.department, link.provider.organization]
    .filter(Boolean)
    .join(', ');
  return (
    <Screen title={t('link.expectsTitle')}>
      <dl className="facts">
        <dt>{t('link.provider')}</dt>
        <dd data-testid="provider">{provider}</dd>
        <dt>{t('link.patient')}</dt>
        <dd>
          {formatPersonName(link.patient.name)}
          {link.patient.birthDate &&
            `, ${t('link.born', { date: formatDicomDate(link.patient.birthDate) })}`}
        </dd>
        {link.recipientName && link.recipientName !== link.patient.name && (
          <>
            <dt>{t('link.recipient')}</dt>
            <dd>{formatPersonName(link.recipientName)}</dd>
          </>
        )}
        <dt>{t('link.expires')}</dt>
        <dd>{formatDateTime(link.expiresAt)}</dd>
        <dt>{t('link.portal')}</dt>
        <dd>
          <code>{new URL(link.portal).host}</code>
        </dd>
      </dl>
      <h2>{t('link.policy')}</h2>
      <PolicySummary policy={link.policy} />
      {link.transfers.length > 0 && (
        <>
          <h2>{t('link.previous')}</h2>
          <ul>
            {link.transfers.map((transfer) => (
              <li key={transfer.transferId}>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => void actions.showTransfer(transfer.transferId)}
                >
                  {transfer.transferId}
                </button>
                : {portalSentence(transfer.message)}
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={link.policy.kind === 'unknown'}
          onClick={() => actions.goTo('media')}
        >
          {t('link.continue')}
        </button>
        <button type="button" onClick={() => void actions.forgetLink()}>
          {t('link.useOther')}
        </button>
      </div>
    </Screen>
  );
}
