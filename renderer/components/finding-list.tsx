import type { FindingView } from '../types.ts';
import { findingMessage, t } from '../i18n/index.ts';

/** Findings in plain words, in the chosen language: one line per kind, how many files, the first few names. */
export function FindingList({ findings }: { findings: readonly FindingView[] }) {
  if (findings.length === 0) return <p>{t('studies.noFindings')}</p>;
  return (
    <ul className="findings">
      {findings.map((finding) => (
        <li key={finding.code} className={`finding finding-${finding.severity}`}>
          <span className="finding-severity">{t(`studies.severity.${finding.severity}`)}: </span>
          {findingMessage(finding)}{' '}
          <span className="muted">({t('studies.findingFiles', { count: finding.count })})</span>
          {finding.paths.length > 0 && (
            <details>
              <summary>{t('studies.showFiles')}</summary>
              <ul>
                {finding.paths.map((path) => (
                  <li key={path}>
                    <code>{path}</code>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}
