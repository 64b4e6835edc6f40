/**
 * Front-desk (kiosk) mode in Electron: `--kiosk` opens one full-screen window without a menu,
 * developer tools or reload; the shortcuts that would leave the app (Ctrl+W, Cmd+Q, Alt+F4,
 * closing the window) only ask the staff to confirm. What a person leaves behind is the core's
 * business (session.reset); this file only keeps the window in front of the next person.
 */
import type { BrowserWindowConstructorOptions, Event, Input } from 'electron';
import { parseIdleSeconds } from '../core/app-service/kiosk.ts';

export interface KioskSettings {
  readonly kiosk: boolean;
  /** --kiosk-idle SECONDS (or --kiosk-idle=SECONDS); the core's default when absent. */
  readonly idleSeconds?: number;
}

/** Reads --kiosk and --kiosk-idle from the command line; throws a plain sentence when bad. */
export function kioskSettingsFromArgv(argv: readonly string[]): KioskSettings {
  const kiosk = argv.includes('--kiosk');
  let idle: string | undefined;
  argv.forEach((arg, index) => {
    if (arg === '--kiosk-idle') idle = argv[index + 1] ?? '';
    else if (arg.startsWith('--kiosk-idle=')) idle = arg.slice('--kiosk-idle='.length);
  });
  if (idle === undefined) return { kiosk };
  if (!kiosk) throw new Error('--kiosk-idle only applies with --kiosk.');
  return { kiosk, idleSeconds: parseIdleSeconds(idle) };
}

/** The kiosk window: full screen, no frame controls or menu to leave by, no developer tools. */
export function kioskWindowOptions(): BrowserWindowConstructorOptions {
  return {
    kiosk: true,
    fullscreen: true,
    autoHideMenuBar: true,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
  };
}

export type ShortcutVerdict = 'allow' | 'block' | 'confirm-close';

type KeyInput = Pick<Input, 'type' | 'key' | 'control' | 'meta' | 'alt' | 'shift'>;

/**
 * What a key does in kiosk mode. Reload (which would lose the screen mid-step), developer tools,
 * view-source, zoom reset and full-screen toggles are blocked; closing and quitting ask first.
 * Everything else, text entry and Tab navigation included, passes.
 */
export function kioskShortcut(input: KeyInput, platform: NodeJS.Platform): ShortcutVerdict {
  if (input.type !== 'keyDown') return 'allow';
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  const command = platform === 'darwin' ? input.meta : input.control;
  if (key === 'F4' && input.alt) return 'confirm-close';
  if (command && (key === 'w' || key === 'q')) return 'confirm-close';
  if (key === 'F5' || key === 'F11' || key === 'F12' || key === 'BrowserRefresh') return 'block';
  if (command && (key === 'r' || key === 'u' || key === 'p' || key === 'n' || key === 't')) {
    return 'block';
  }
  if (command && input.shift && (key === 'i' || key === 'j' || key === 'c')) return 'block';
  if (platform === 'darwin' && input.meta && input.alt && (key === 'i' || key === 'j')) {
    return 'block';
  }
  if (platform === 'darwin' && input.meta && (key === 'h' || key === 'm')) return 'block';
  if (input.alt && (key === 'ArrowLeft' || key === 'ArrowRight')) return 'block';
  return 'allow';
}

/** The parts of a BrowserWindow the guard touches (fakes in tests). */
export interface GuardedWindow {
  on(event: 'close', listener: (event: Event) => void): unknown;
  close(): void;
  readonly webContents: {
    on(event: 'before-input-event', listener: (event: Event, input: Input) => void): unknown;
    on(event: 'devtools-opened', listener: () => void): unknown;
    closeDevTools(): void;
  };
}

/**
 * Keeps a kiosk window in front: blocked shortcuts do nothing, and closing (a shortcut, Alt+F4
 * from the system, the window's close) happens only after `confirmClose` says yes.
 */
export function guardKioskWindow(
  win: GuardedWindow,
  options: { readonly confirmClose: () => boolean; readonly platform: NodeJS.Platform },
): void {
  let closing = false;
  const askThenClose = (): void => {
    if (!options.confirmClose()) return;
    closing = true;
    // Not from inside the close event that asked: Electron closes on the next turn.
    setImmediate(() => win.close());
  };
  win.webContents.on('before-input-event', (event, input) => {
    const verdict = kioskShortcut(input, options.platform);
    if (verdict === 'allow') return;
    event.preventDefault();
    if (verdict === 'confirm-close') askThenClose();
  });
  win.webContents.on('devtools-opened', () => win.webContents.closeDevTools());
  win.on('close', (event) => {
    if (closing) return;
    event.preventDefault();
    askThenClose();
  });
}
