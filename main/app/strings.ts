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
} as const;

export type MainStringKey = keyof typeof en;

const tables: Record<string, Record<MainStringKey, string>> = { en };

export function mainStrings(locale: string): Record<MainStringKey, string> {
  return tables[locale.split('-')[0] ?? 'en'] ?? en;
}
