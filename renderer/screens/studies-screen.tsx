import { actions, useFlow } from '../app-state.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { FindingList } from '../components/finding-list.tsx';
import { Screen } from '../components/screen.tsx';
import {
  findingMessage,
  formatBytes,
  formatDicomDate,
  formatPersonName,
  t,
} from '../i18n/index.ts';
import { flaggedSelection } from '../store.ts';
import type { PatientView } from '../types.ts';

export function StudiesScreen() {
  const scan = useFlow((s) => s.scan);
  const validation = useFlow((s) => s.validation);
  const validating = useFlow((s) => s.validating);
  const selected = useFlow((s) => s.selected);
  const link = useFlow((s) => s.link);
  const error = useFlow((s) => s.scanError);
  const flaggedChosen = useFlow((s) => flaggedSelection(s).length > 0);
  const identityConfirmed = useFlow((s) => s.identityConfirmed);
  if (!scan) return null;
  const expected = link ? formatPersonName(link.patient.name) : '';
  const mismatched = new Set(validation?.identity.mismatchedPatientKeys ?? []);
  const identity = validation?.identity.status;
  const mismatchSentence = validation?.identity.message;
  const identityMessage =
    mismatchSentence === undefined
      ? undefined
      : findingMessage({ code: 'patient-mismatch', message: mismatchSentence });
  return (
    <Screen title={t('studies.title')}>
      <p>
        {t('studies.summary', {
          studies: t('common.studies', { count: scan.summary.studies }),
          images: t('common.images', { count: scan.summary.instances }),
          size: formatBytes(scan.summary.bytes),
        })}
      </p>
      {validating && <p role="status">{t('studies.checking')}</p>}
      {identity === 'mismatch' && (
        <div className="notice notice-warning" role="alert" data-testid="identity-warning">
          {identityMessage && <p>{identityMessage}</p>}
          <p>{t('studies.identityMismatch', { expected })}</p>
        </div>
      )}
      {identity === 'not-checked' && link && (
        <div className="notice notice-info" data-testid="identity-not-checked">
          <p>{t('studies.identityNotChecked', { expected })}</p>
        </div>
      )}
      {identity === 'match' && <p className="notice notice-ok">{t('studies.identityMatch')}</p>}
      {scan.summary.instances === 0 && (
        <p className="notice notice-warning">{t('studies.noImages')}</p>
      )}
      {scan.patients.map((patient) => (
        <PatientGroup
          key={patient.key}
          patient={patient}
          flagged={mismatched.has(patient.key)}
          selected={selected}
        />
      ))}
      <h2>{t('studies.findings')}</h2>
      <FindingList findings={validation?.findings ?? scan.findings} />
      {error && <ErrorNotice error={error} />}
      {flaggedChosen && (
        <div className="notice notice-warning">
          <p>
            <input
              type="checkbox"
              id="identity-confirm"
              checked={identityConfirmed}
              onChange={(event) => actions.confirmIdentity(event.target.checked)}
            />{' '}
            <label htmlFor="identity-confirm">{t('studies.identityConfirm', { expected })}</label>
          </p>
        </div>
      )}
      <p className="muted" aria-live="polite">
        {t('studies.selected', { count: selected.length })}
      </p>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={selected.length === 0 || validating || (flaggedChosen && !identityConfirmed)}
          onClick={() => actions.goTo('preview')}
        >
          {t('studies.continue')}
        </button>
        <button type="button" onClick={() => actions.goTo('media')}>
          {t('common.back')}
        </button>
      </div>
    </Screen>
  );
}

function PatientGroup({
  patient,
  flagged,
  selected,
}: {
  patient: PatientView;
  flagged: boolean;
  selected: readonly string[];
}) {
  return (
    <fieldset className={flagged ? 'patient flagged' : 'patient'}>
      <legend>
        {t('studies.patient', {
          name: formatPersonName(patient.name),
          birth: formatDicomDate(patient.birthDate),
        })}
        {flagged && <span className="badge badge-warning">{t('studies.otherPatient')}</span>}
      </legend>
      {patient.patientId && (
        <p className="muted">{t('studies.patientId', { id: patient.patientId })}</p>
      )}
      <ul className="studies">
        {patient.studies.map((study) => {
          const id = `study-${study.key}`;
          const description = study.description || t('studies.noDescription');
          return (
            <li key={study.key}>
              <input
                type="checkbox"
                id={id}
                checked={selected.includes(study.key)}
                onChange={(event) => actions.toggleStudy(study.key, event.target.checked)}
                aria-describedby={`${id}-details`}
              />
              <label htmlFor={id}>
                {t('studies.choose', { description, date: formatDicomDate(study.date) })}
              </label>
              <p id={`${id}-details`} className="muted">
                {t('studies.details', {
                  modalities: study.modalities.join(', ') || '—',
                  images: t('common.images', { count: study.instances }),
                  size: formatBytes(study.bytes),
                })}
              </p>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
