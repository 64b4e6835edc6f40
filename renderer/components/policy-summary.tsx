import type { PolicyView } from '../types.ts';
import { t, type MessageKey } from '../i18n/index.ts';

/** What the link's policy does to the data, in plain words. */
export function policySentences(policy: PolicyView): string[] {
  switch (policy.kind) {
    case 'none':
      return [t('policy.none')];
    case 'basic': {
      const kept = policy.options.map((option) =>
        t(`option.${option}` as MessageKey) === `option.${option}`
          ? option
          : t(`option.${option}` as MessageKey),
      );
      return kept.length > 0
        ? [t('policy.basic'), t('policy.basicOptions', { options: kept.join('; ') })]
        : [t('policy.basic')];
    }
    case 'reconcile':
      return [t('policy.reconcile', { mrn: policy.mrn })];
    case 'unknown':
      return [t('policy.unknown')];
  }
}

export function PolicySummary({ policy }: { policy: PolicyView }) {
  return (
    <>
      {policySentences(policy).map((sentence) => (
        <p key={sentence}>{sentence}</p>
      ))}
    </>
  );
}
