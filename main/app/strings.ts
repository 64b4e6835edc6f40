/**
 * The few sentences the main process shows itself (native dialogs). The renderer's strings live
 * in renderer/i18n; these follow the same keys-per-locale shape so Spanish (issue 8) adds a table.
 */
const en = {
  'leave.title': 'Images are still being sent',
  'leave.message': 'Images are still being sent. Quit anyway?',
  'leave.detail':
    'If you quit now, the upload stops. The next time you open Ferry with the same link and disc, it continues from where it stopped.',
  'leave.stay': 'Keep sending',
  'leave.quit': 'Quit',
  'pick.title': 'Choose the disc or folder with your images',
  'kiosk.close.title': 'Close DICOM Ferry?',
  'kiosk.close.message': 'This computer is set up for the front desk. Close DICOM Ferry?',
  'kiosk.close.detail':
    'Only staff should close it. The next person then cannot send images until Ferry is started again.',
  'kiosk.close.stay': 'Keep Ferry open',
  'kiosk.close.quit': 'Close Ferry',
} as const;

export type MainStringKey = keyof typeof en;

const tables: Record<string, Record<MainStringKey, string>> = { en };

export function mainStrings(locale: string): Record<MainStringKey, string> {
  return tables[locale.split('-')[0] ?? 'en'] ?? en;
}
