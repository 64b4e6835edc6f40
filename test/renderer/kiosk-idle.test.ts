/** Kiosk inactivity (renderer/kiosk-idle.ts): when to warn, when to reset, and when never to. */
import { describe, expect, it } from 'vitest';
import type { AppInfo, UploadProgress } from '../../main/core/api.ts';
import { countdownSeconds, idlePhase, idleResetApplies } from '../../renderer/kiosk-idle.ts';
import { initialState, type FlowState } from '../../renderer/store.ts';

const info = (kiosk: boolean): AppInfo => ({
  host: 'browser-host',
  version: '0.1.0',
  platform: 'linux',
  canPickFolder: false,
  canEject: true,
  engines: { link: true, upload: true, validate: true, deid: true },
  pendingLink: null,
  kiosk,
  ...(kiosk ? { kioskIdleSeconds: 180 } : {}),
});

const upload = (state: UploadProgress['state']): UploadProgress => ({
  uploadId: 'up_1',
  state,
  sentInstances: 1,
  totalInstances: 2,
  sentBytes: 1,
  totalBytes: 2,
  bytesPerSecond: 0,
  etaSeconds: null,
});

describe('kiosk inactivity', () => {
  it('warns after the idle time with a 30-second countdown, then expires', () => {
    expect(countdownSeconds(180)).toBe(30);
    expect(countdownSeconds(3)).toBe(3);
    expect(idlePhase(179_999, 180)).toEqual({ kind: 'active' });
    expect(idlePhase(180_000, 180)).toEqual({ kind: 'warning', secondsLeft: 30 });
    expect(idlePhase(195_500, 180)).toEqual({ kind: 'warning', secondsLeft: 15 });
    expect(idlePhase(209_001, 180)).toEqual({ kind: 'warning', secondsLeft: 1 });
    expect(idlePhase(210_000, 180)).toEqual({ kind: 'expired' });
  });

  it('applies in kiosk mode once a person has started, never while sending or reading', () => {
    const kiosk: FlowState = { ...initialState, info: info(true) };
    expect(idleResetApplies(kiosk)).toBe(false);
    expect(idleResetApplies({ ...kiosk, step: 'media' })).toBe(true);
    expect(idleResetApplies({ ...kiosk, mediaPath: '/media/cdrom' })).toBe(true);
    expect(idleResetApplies({ ...kiosk, mediaPath: '/media/cdrom', scanning: true })).toBe(false);
    expect(idleResetApplies({ ...kiosk, step: 'upload', upload: upload('sending') })).toBe(false);
    expect(idleResetApplies({ ...kiosk, step: 'upload', upload: upload('paused') })).toBe(false);
    expect(idleResetApplies({ ...kiosk, step: 'status', upload: upload('done') })).toBe(true);
    expect(idleResetApplies({ ...kiosk, step: 'upload', upload: upload('failed') })).toBe(true);
    expect(idleResetApplies({ ...initialState, info: info(false), step: 'media' })).toBe(false);
  });
});
