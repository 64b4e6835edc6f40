import { describe, expect, it, vi } from 'vitest';
import {
  createDriveSource,
  parseLsblk,
  parseWindowsDisks,
  watchDrives,
} from '../../main/core/app-service/drives.ts';

// util-linux 2.38 (Debian 12): booleans and a mountpoints array.
const lsblkNew = JSON.stringify({
  blockdevices: [
    {
      name: 'sda',
      path: '/dev/sda',
      rm: false,
      hotplug: false,
      type: 'disk',
      tran: 'sata',
      label: null,
      size: 500107862016,
      mountpoints: [null],
      children: [
        {
          name: 'sda1',
          path: '/dev/sda1',
          rm: false,
          hotplug: false,
          type: 'part',
          tran: null,
          label: null,
          size: 500106813440,
          mountpoints: ['/'],
        },
      ],
    },
    {
      name: 'sdb',
      path: '/dev/sdb',
      rm: true,
      hotplug: true,
      type: 'disk',
      tran: 'usb',
      label: null,
      size: 16008609792,
      mountpoints: [null],
      children: [
        {
          name: 'sdb1',
          path: '/dev/sdb1',
          rm: true,
          hotplug: true,
          type: 'part',
          tran: null,
          label: 'PATIENT CD',
          size: 16007561216,
          mountpoints: ['/media/jane/PATIENT CD'],
        },
      ],
    },
    {
      name: 'sr0',
      path: '/dev/sr0',
      rm: true,
      hotplug: false,
      type: 'rom',
      tran: 'sata',
      label: 'PACS_2024',
      size: 681574400,
      mountpoints: ['/media/cdrom0'],
    },
    {
      name: 'sr1',
      path: '/dev/sr1',
      rm: true,
      hotplug: false,
      type: 'rom',
      tran: 'sata',
      label: null,
      size: 1073741312,
      mountpoints: [null],
    },
  ],
});

// util-linux 2.33 (older): "1"/"0" strings and a single mountpoint.
const lsblkOld = JSON.stringify({
  blockdevices: [
    { name: 'sr0', rm: '1', type: 'rom', label: 'DISC', size: '681574400', mountpoint: '/mnt/cd' },
  ],
});

describe('removable drive detection (main/core/app-service/drives.ts)', () => {
  it('finds mounted USB drives and discs in lsblk, not the system disk or empty drives', () => {
    expect(parseLsblk(lsblkNew)).toEqual([
      {
        id: '/dev/sdb1',
        label: 'PATIENT CD',
        mountPath: '/media/jane/PATIENT CD',
        kind: 'usb',
        bytes: 16007561216,
      },
      {
        id: '/dev/sr0',
        label: 'PACS_2024',
        mountPath: '/media/cdrom0',
        kind: 'optical',
        bytes: 681574400,
      },
    ]);
    expect(parseLsblk(lsblkOld)).toEqual([
      { id: '/dev/sr0', label: 'DISC', mountPath: '/mnt/cd', kind: 'optical', bytes: 681574400 },
    ]);
  });

  it('finds removable and CD drive letters on Windows', () => {
    const one = JSON.stringify({
      DeviceID: 'E:',
      VolumeName: 'PACS',
      DriveType: 5,
      Size: 681574400,
    });
    expect(parseWindowsDisks(one)).toEqual([
      { id: 'E:', label: 'PACS', mountPath: 'E:\\', kind: 'optical', bytes: 681574400 },
    ]);
    const many = JSON.stringify([
      { DeviceID: 'C:', VolumeName: 'OS', DriveType: 3, Size: 1 },
      { DeviceID: 'F:', VolumeName: null, DriveType: 2, Size: null },
    ]);
    expect(parseWindowsDisks(many)).toEqual([
      { id: 'F:', label: 'F:', mountPath: 'F:\\', kind: 'removable' },
    ]);
    expect(parseWindowsDisks('')).toEqual([]);
  });

  it('lists and ejects with the platform tools, never through a shell', async () => {
    const exec = vi.fn(async (file: string) => (file === 'lsblk' ? lsblkNew : ''));
    const linux = createDriveSource({ platform: 'linux', exec });
    const [usb] = await linux.list();
    await linux.eject?.(usb!);
    expect(exec).toHaveBeenCalledWith('udisksctl', [
      'unmount',
      '--block-device',
      '/dev/sdb1',
      '--no-user-interaction',
    ]);
    expect(exec).toHaveBeenCalledWith('eject', ['/dev/sdb1']);

    const mac = createDriveSource({
      platform: 'darwin',
      exec,
      listVolumes: async () => [
        { name: 'Macintosh HD', isBootVolume: true },
        { name: 'PACS CD', isBootVolume: false },
      ],
    });
    const volumes = await mac.list();
    expect(volumes).toEqual([
      {
        id: '/Volumes/PACS CD',
        label: 'PACS CD',
        mountPath: '/Volumes/PACS CD',
        kind: 'removable',
      },
    ]);
    await mac.eject?.(volumes[0]!);
    expect(exec).toHaveBeenCalledWith('diskutil', ['eject', '/Volumes/PACS CD']);

    const win = createDriveSource({
      platform: 'win32',
      exec: async () => JSON.stringify({ DeviceID: 'E:', DriveType: 5 }),
    });
    expect(await win.list()).toHaveLength(1);
    await expect(
      win.eject?.({ id: "E:'); Remove-Item C:\\ #", label: '', mountPath: '', kind: 'optical' }),
    ).rejects.toThrow();
  });

  it('reports a change only when the set of drives changes', async () => {
    let current = [
      { id: '/dev/sr0', label: 'CD', mountPath: '/media/cd', kind: 'optical' as const },
    ];
    const changes: unknown[] = [];
    const watcher = watchDrives({ list: async () => current }, (drives) => changes.push(drives), {
      intervalMs: 5,
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(changes).toHaveLength(1);
    current = [];
    await new Promise((resolve) => setTimeout(resolve, 30));
    watcher.stop();
    expect(changes).toEqual([
      [{ id: '/dev/sr0', label: 'CD', mountPath: '/media/cd', kind: 'optical' }],
      [],
    ]);
  });
});
