import { useId } from 'react';
import { chooseLanguage, currentLanguage, LANGUAGES, t, type Language } from '../i18n/index.ts';

/** The language choice: a labelled native select (keyboard and screen readers work as usual). */
export function LanguageSwitch({ onChange }: { onChange: (language: Language) => void }) {
  const id = useId();
  return (
    <p className="language-switch">
      <label htmlFor={id}>{t('app.language')}</label>{' '}
      <select
        id={id}
        data-testid="language"
        value={currentLanguage()}
        onChange={(event) => {
          const language = event.target.value as Language;
          chooseLanguage(language);
          onChange(language);
        }}
      >
        {LANGUAGES.map((language) => (
          <option key={language} value={language} lang={language}>
            {t(`app.language.${language}`)}
          </option>
        ))}
      </select>
    </p>
  );
}
