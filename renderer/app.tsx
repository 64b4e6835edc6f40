import { useState } from 'react';
import { actions, useFlow } from './app-state.ts';
import { KioskIdle } from './components/kiosk-idle.tsx';
import { LanguageSwitch } from './components/language-switch.tsx';
import { LiveRegion } from './components/live-region.tsx';
import { StepHelp } from './components/step-help.tsx';
import { StepNav } from './components/step-nav.tsx';
import { currentLanguage, t, type MessageKey } from './i18n/index.ts';
import { idleResetApplies } from './kiosk-idle.ts';
import { HistoryScreen } from './screens/history-screen.tsx';
import { LinkScreen } from './screens/link-screen.tsx';
import { MediaScreen } from './screens/media-screen.tsx';
import { PreviewScreen } from './screens/preview-screen.tsx';
import { StatusScreen } from './screens/status-screen.tsx';
import { StudiesScreen } from './screens/studies-screen.tsx';
import { UploadScreen } from './screens/upload-screen.tsx';
import type { Step } from './types.ts';

const screens: Record<Step, () => React.JSX.Element | null> = {
  link: LinkScreen,
  media: MediaScreen,
  studies: StudiesScreen,
  preview: PreviewScreen,
  upload: UploadScreen,
  status: StatusScreen,
  history: HistoryScreen,
};

export function App() {
  const step = useFlow((s) => s.step);
  const info = useFlow((s) => s.info);
  const disconnected = useFlow((s) => s.disconnected);
  const canEndSession = useFlow(idleResetApplies);
  // t() reads the chosen language; changing it re-renders the whole tree from here.
  const [, setLanguage] = useState(currentLanguage());
  const CurrentScreen = screens[step];
  const missing = info
    ? (Object.entries(info.engines) as [string, boolean][])
        .filter(([, available]) => !available)
        .map(([name]) => t(`engine.${name}` as MessageKey))
    : [];
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="app-header no-print">
        <div className="app-header-top">
          <p className="app-name">{t('app.title')}</p>
          <div className="app-header-tools">
            {info?.kiosk && canEndSession && (
              <button
                type="button"
                className="next-person"
                title={t('kiosk.nextHelp')}
                onClick={() => void actions.resetKiosk()}
              >
                {t('kiosk.next')}
              </button>
            )}
            <LanguageSwitch onChange={setLanguage} />
          </div>
        </div>
        <StepNav />
      </header>
      <main id="main" tabIndex={-1}>
        {disconnected && (
          <div className="notice notice-error" role="alert">
            <p>{t('app.disconnected')}</p>
          </div>
        )}
        {missing.length > 0 && (
          <p className="notice notice-info no-print" data-testid="engines-missing">
            {t('app.engineMissing', { what: missing.join('; ') })}
          </p>
        )}
        {info ? <CurrentScreen key={step} /> : <p role="status">{t('app.connecting')}</p>}
        {info && <StepHelp key={`help-${step}`} step={step} />}
      </main>
      {info?.kiosk && info.kioskIdleSeconds !== undefined && (
        <KioskIdle idleSeconds={info.kioskIdleSeconds} />
      )}
      <LiveRegion />
    </>
  );
}
