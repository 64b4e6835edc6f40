/**
 * Kiosk pieces of the core (main/core/app-service/kiosk.ts) as units: which drive a disc was read
 * from, ejecting it with each platform's own tool through a fake command runner (no drive exists
 * on a test machine), emptying folders, the idle setting, and a reset refused mid-upload.
 */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DriveView, UploadProgress } from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import { createDriveSource } from '../../main/core/app-service/drives.ts';
import { memorySecretStore, type UploadUpdate } from '../../main/core/app-service/engines.ts';
import { memoryHistory } from '../../main/core/app-service/history.ts';
import {
  DEFAULT_KIOSK_IDLE_SECONDS,
  driveOfMedia,
  ejectMediaDrive,
  parseIdleSeconds,
  removeContents,
} from '../../main/core/app-service/kiosk.ts';
import { createAppService } from '../../main/core/app-service/service.ts';
import type { ScanResult } from '../../main/core/media/model.ts';

const cd: DriveView = {
  id: '/dev/sr0',
  label: 'PACS CD',
  mountPath: '/media/cdrom',
  kind: 'optical',
};
const usb: DriveView = { id: '/dev/sdb1', label: 'USB', mountPath: '/media/usb', kind: 'usb' };

describe('which drive the media came from', () => {
  it('is the drive whose mount path holds the media root', () => {
    expect(driveOfMedia('/media/cdrom', [usb, cd])).toBe(cd);
    expect(driveOfMedia('/media/cdrom/DICOM', [usb, cd])).toBe(cd);
    expect(driveOfMedia('/media/cdrom2', [usb, cd])).toBeUndefined();
    expect(driveOfMedia('/home/jane/Downloads/cd', [usb, cd])).toBeUndefined();
  });

  it('works with Windows drive letters', () => {
    const d: DriveView = { id: 'D:', label: 'CD', mountPath: 'D:\\', kind: 'optical' };
    expect(driveOfMedia('D:\\DICOM', [d], path.win32)).toBe(d);
    expect(driveOfMedia('C:\\Users\\jane\\cd', [d], path.win32)).toBeUndefined();
  });
});

describe('ejecting after the transfer', () => {
  it('runs udisksctl and eject on Linux, without a shell', async () => {
    const exec = vi.fn(async () => '');
    const source = createDriveSource({ platform: 'linux', exec });
    expect(await ejectMediaDrive('/media/cdrom', source, [cd])).toEqual({
      kind: 'ejected',
      drive: cd,
    });
    expect(exec.mock.calls).toEqual([
      ['udisksctl', ['unmount', '--block-device', '/dev/sr0', '--no-user-interaction']],
      ['eject', ['/dev/sr0']],
    ]);
  });

  it('powers a USB drive off through udisks when eject is missing', async () => {
    const exec = vi.fn(async (file: string) => {
      if (file === 'eject')
        throw Object.assign(new Error('spawn eject ENOENT'), { code: 'ENOENT' });
      return '';
    });
    const source = createDriveSource({ platform: 'linux', exec });
    expect(await ejectMediaDrive('/media/usb/DICOM', source, [usb])).toMatchObject({
      kind: 'ejected',
    });
    expect(exec).toHaveBeenLastCalledWith('udisksctl', [
      'power-off',
      '--block-device',
      '/dev/sdb1',
      '--no-user-interaction',
    ]);
  });

  it('uses diskutil on macOS and the Shell Eject verb on Windows', async () => {
    const exec = vi.fn(async () => '');
    const mac = createDriveSource({ platform: 'darwin', exec, listVolumes: async () => [] });
    const volume: DriveView = {
      id: '/Volumes/PACS CD',
      label: 'PACS CD',
      mountPath: '/Volumes/PACS CD',
      kind: 'removable',
    };
    await ejectMediaDrive('/Volumes/PACS CD', mac, [volume]);
    expect(exec).toHaveBeenLastCalledWith('diskutil', ['eject', '/Volumes/PACS CD']);
    const win = createDriveSource({ platform: 'win32', exec });
    const d: DriveView = { id: 'D:', label: 'CD', mountPath: 'D:\\', kind: 'optical' };
    // The media path is Windows-shaped; on Linux path.resolve would not see D:\ as absolute.
    const outcome = await win.eject?.(d);
    expect(outcome).toBeUndefined();
    const [file, args] = exec.mock.calls.at(-1) as unknown as [string, string[]];
    expect(file).toBe('powershell.exe');
    expect(args.at(-1)).toContain("ParseName('D:').InvokeVerb('Eject')");
  });

  it('leaves a folder on the computer alone and says when ejecting failed', async () => {
    const exec = vi.fn(async () => {
      throw new Error('busy');
    });
    const source = createDriveSource({ platform: 'linux', exec });
    expect(await ejectMediaDrive('/home/jane/cd', source, [cd])).toEqual({ kind: 'not-removable' });
    expect(exec).not.toHaveBeenCalled();
    expect(await ejectMediaDrive('/media/cdrom', source, [cd])).toEqual({
      kind: 'failed',
      drive: cd,
    });
    expect(await ejectMediaDrive('/media/cdrom', { list: async () => [cd] }, [])).toEqual({
      kind: 'not-supported',
    });
  });
});

describe('emptying a folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-kiosk-empty-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes every file below it, never what a link points to', async () => {
    const inside = path.join(dir, 'uploads');
    const outside = path.join(dir, 'keep');
    await mkdir(path.join(inside, 'timelines'), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(inside, 'a.journal'), 'x');
    await writeFile(path.join(inside, 'timelines', 'tr_1.status'), 'x');
    await writeFile(path.join(outside, 'precious'), 'x');
    await symlink(outside, path.join(inside, 'link'));
    expect(await removeContents(inside)).toBe(3);
    expect(await readdir(inside)).toEqual([]);
    expect(await readdir(outside)).toEqual(['precious']);
    expect(await removeContents(path.join(dir, 'never-made'))).toBe(0);
  });
});

describe('the inactivity setting', () => {
  it('takes whole seconds from 5 to a day, and says what is wrong otherwise', () => {
    expect(DEFAULT_KIOSK_IDLE_SECONDS).toBe(180);
    expect(parseIdleSeconds('90')).toBe(90);
    for (const bad of ['4', '-5', '1.5', 'soon', '', '100000']) {
      expect(() => parseIdleSeconds(bad), bad).toThrow(/seconds/u);
    }
  });
});

describe("the browser host's --kiosk-idle", () => {
  it('refuses a bad value or one without --kiosk, with a plain sentence', async () => {
    const { main } = await import('../../main/host/cli.ts');
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await main(['--kiosk', '--kiosk-idle', 'soon'])).toBe(2);
      expect(await main(['--kiosk-idle', '60'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(written).toEqual([
      'The inactivity time must be a whole number of seconds, 5 or more.\n',
      '--kiosk-idle only applies with --kiosk.\n',
    ]);
  });
});

describe('session.reset while images are being sent', () => {
  it('is refused until the upload has ended, then clears the screen state', async () => {
    let push: ((update: UploadUpdate) => void) | undefined;
    let finish: (() => void) | undefined;
    const result: ScanResult = {
      root: '/media/cdrom',
      source: 'walk',
      patients: [
        {
          patientId: 'ID1',
          patientName: 'DOE^JANE',
          birthDate: '19800101',
          sex: 'F',
          studies: [
            {
              studyInstanceUid: '1.2.3',
              date: '',
              time: '',
              description: '',
              accessionNumber: '',
              modalities: ['CT'],
              series: [
                {
                  seriesInstanceUid: '1.2.3.4',
                  modality: 'CT',
                  description: '',
                  bytes: 10,
                  instances: [
                    {
                      path: 'IM1',
                      bytes: 10,
                      sopInstanceUid: '1.2.3.4.5',
                      sopClassUid: '1.2',
                      transferSyntaxUid: '1.2.840.10008.1.2.1',
                      source: 'header',
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
      summary: {
        patients: 1,
        studies: 1,
        series: 1,
        instances: 1,
        bytes: 10,
        nonDicomFiles: 0,
        unreadableFiles: 0,
      },
      findings: [],
    } as unknown as ScanResult;
    const eject = vi.fn(async () => {});
    const service = createAppService({
      host: 'browser-host',
      version: '0.1.0',
      kiosk: true,
      engines: {
        link: {
          resolve: async () => ({
            portal: 'https://portal.example',
            provider: { name: 'Dr. A', department: '', organization: 'St. E' },
            recipientName: 'DOE^JANE',
            patient: { name: 'DOE^JANE', birthDate: '19800101' },
            expiresAt: '2030-01-01T00:00:00.000Z',
            policy: { kind: 'none' },
            limits: { maxBytes: 1e9, maxInstances: 1000 },
            transfers: [],
          }),
          transferStatus: async () => {
            throw new Error('not used');
          },
        },
        upload: {
          start: (_request, onUpdate) => {
            push = onUpdate;
            return {
              pause() {},
              resume() {},
              cancel() {},
              finished: new Promise<void>((resolve) => (finish = resolve)),
            };
          },
        },
      },
      platformServices: {
        secrets: memorySecretStore(),
        keepAwake: { start() {}, stop() {} },
        drives: { list: async () => [cd], eject },
      },
      history: memoryHistory(),
      emit: () => {},
      scan: async () => result,
    });
    const dispatch = createDispatch(service.handlers);
    await dispatch('link.open', { url: `https://portal.example/u/${'K'.repeat(43)}` });
    const scan = await dispatch('media.scan', { path: '/media/cdrom' });
    expect(scan.ok).toBe(true);
    const scanId = (scan as { value: { scanId: string } }).value.scanId;
    const started = await dispatch('upload.start', {
      scanId,
      studyKeys: ['p1s1'],
      burnedInConfirmed: false,
      identityConfirmed: false,
    });
    expect(started.ok).toBe(true);
    const sending: Omit<UploadProgress, 'uploadId'> = {
      state: 'sending',
      sentInstances: 0,
      totalInstances: 1,
      sentBytes: 0,
      totalBytes: 10,
      bytesPerSecond: 0,
      etaSeconds: null,
    };
    push?.(sending);
    expect(await dispatch('session.reset', undefined)).toMatchObject({
      ok: false,
      error: { code: 'busy' },
    });
    expect(eject).not.toHaveBeenCalled();
    push?.({ ...sending, state: 'done', sentInstances: 1, sentBytes: 10, transferId: 'tr_1' });
    finish?.();
    await vi.waitFor(() => expect(eject).toHaveBeenCalledWith(cd));
    expect(await dispatch('session.reset', undefined)).toEqual({
      ok: true,
      value: { removedFiles: 0 },
    });
    expect(await dispatch('upload.current', undefined)).toEqual({ ok: true, value: null });
    expect(await dispatch('validate.run', { scanId })).toMatchObject({ ok: false });
    expect(await dispatch('app.info', undefined)).toMatchObject({
      ok: true,
      value: { kiosk: true, kioskIdleSeconds: 180 },
    });
  });
});
