/**
 * Removable drives: CDs, DVDs and flash drives a patient brings. Polled, because no platform
 * offers a change notification to plain Node; cheap enough every few seconds. Eject is offered
 * after an upload so the disc goes back with the patient.
 *
 * - Linux: `lsblk --json` (util-linux), removable or optical block devices that are mounted.
 * - macOS: the folders under /Volumes that are not the boot volume.
 * - Windows: logical disks of DriveType 2 (removable) or 5 (CD/DVD) through PowerShell CIM.
 */
import { execFile } from 'node:child_process';
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { DriveKind, DriveView } from '../api.ts';
import type { DriveSource } from './engines.ts';

/** Runs a program (no shell) and resolves with its stdout. */
export type Exec = (file: string, args: readonly string[]) => Promise<string>;

export const execProgram: Exec = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 10_000, windowsHide: true }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });

interface LsblkDevice {
  name?: string;
  path?: string;
  rm?: boolean | string | number;
  hotplug?: boolean | string | number;
  type?: string;
  tran?: string | null;
  label?: string | null;
  size?: number | string | null;
  mountpoint?: string | null;
  mountpoints?: (string | null)[];
  children?: LsblkDevice[];
}

const truthy = (value: unknown): boolean => value === true || value === '1' || value === 1;

/** Parses `lsblk --json --bytes -o NAME,PATH,RM,HOTPLUG,TYPE,TRAN,LABEL,SIZE,MOUNTPOINTS`. */
export function parseLsblk(json: string): DriveView[] {
  const parsed = JSON.parse(json) as { blockdevices?: LsblkDevice[] };
  const drives: DriveView[] = [];
  const visit = (device: LsblkDevice, parent: LsblkDevice | undefined): void => {
    const removable =
      truthy(device.rm) ||
      truthy(device.hotplug) ||
      truthy(parent?.rm) ||
      truthy(parent?.hotplug) ||
      (parent?.tran ?? device.tran) === 'usb';
    const optical = device.type === 'rom';
    const mounts = [...(device.mountpoints ?? []), device.mountpoint].filter(
      (mount): mount is string => typeof mount === 'string' && mount !== '' && mount !== '[SWAP]',
    );
    if ((removable || optical) && mounts[0] !== undefined && mounts[0] !== '/') {
      const kind: DriveKind = optical
        ? 'optical'
        : (parent?.tran ?? device.tran) === 'usb'
          ? 'usb'
          : 'removable';
      const size = Number(device.size);
      drives.push({
        id: device.path ?? `/dev/${device.name ?? ''}`,
        label: device.label || path.basename(mounts[0]) || device.name || '',
        mountPath: mounts[0],
        kind,
        ...(Number.isFinite(size) && size > 0 ? { bytes: size } : {}),
      });
    }
    for (const child of device.children ?? []) visit(child, device);
  };
  for (const device of parsed.blockdevices ?? []) visit(device, undefined);
  return drives;
}

interface WindowsDisk {
  DeviceID?: string;
  VolumeName?: string | null;
  DriveType?: number;
  Size?: number | string | null;
}

/** Parses PowerShell's ConvertTo-Json of Win32_LogicalDisk (one object, or a list). */
export function parseWindowsDisks(json: string): DriveView[] {
  if (json.trim() === '') return [];
  const parsed = JSON.parse(json) as WindowsDisk | WindowsDisk[];
  const disks = Array.isArray(parsed) ? parsed : [parsed];
  return disks
    .filter((disk) => (disk.DriveType === 2 || disk.DriveType === 5) && disk.DeviceID)
    .map((disk) => {
      const size = Number(disk.Size);
      const letter = disk.DeviceID ?? '';
      return {
        id: letter,
        label: disk.VolumeName || letter,
        mountPath: `${letter}\\`,
        kind: disk.DriveType === 5 ? ('optical' as const) : ('removable' as const),
        ...(Number.isFinite(size) && size > 0 ? { bytes: size } : {}),
      };
    });
}

export interface DriveSourceOptions {
  readonly platform?: NodeJS.Platform;
  readonly exec?: Exec;
  /** macOS: lists /Volumes; injectable for tests. */
  readonly listVolumes?: () => Promise<{ name: string; isBootVolume: boolean }[]>;
}

async function macVolumes(): Promise<{ name: string; isBootVolume: boolean }[]> {
  const names = await readdir('/Volumes');
  return Promise.all(
    names
      .filter((name) => !name.startsWith('.'))
      .map(async (name) => ({
        name,
        isBootVolume: (await realpath(path.join('/Volumes', name)).catch(() => '')) === '/',
      })),
  );
}

const WINDOWS_LIST =
  'Get-CimInstance Win32_LogicalDisk | Where-Object { $_.DriveType -eq 2 -or $_.DriveType -eq 5 } | Select-Object DeviceID,VolumeName,DriveType,Size | ConvertTo-Json -Compress';

export function createDriveSource(options: DriveSourceOptions = {}): DriveSource {
  const platform = options.platform ?? process.platform;
  const exec = options.exec ?? execProgram;
  switch (platform) {
    case 'linux':
      return {
        list: async () =>
          parseLsblk(
            await exec('lsblk', [
              '--json',
              '--bytes',
              '-o',
              'NAME,PATH,RM,HOTPLUG,TYPE,TRAN,LABEL,SIZE,MOUNTPOINTS',
            ]),
          ),
        eject: async (drive) => {
          // udisks lets the logged-in user unmount and eject without root.
          await exec('udisksctl', ['unmount', '--block-device', drive.id, '--no-user-interaction']);
          await exec('eject', [drive.id]).catch(() =>
            exec('udisksctl', ['power-off', '--block-device', drive.id, '--no-user-interaction']),
          );
        },
      };
    case 'darwin': {
      const listVolumes = options.listVolumes ?? macVolumes;
      return {
        list: async () =>
          (await listVolumes())
            .filter((volume) => !volume.isBootVolume)
            .map((volume) => ({
              id: path.posix.join('/Volumes', volume.name),
              label: volume.name,
              mountPath: path.posix.join('/Volumes', volume.name),
              kind: 'removable' as const,
            })),
        eject: async (drive) => {
          await exec('diskutil', ['eject', drive.mountPath]);
        },
      };
    }
    case 'win32':
      return {
        list: async () =>
          parseWindowsDisks(
            await exec('powershell.exe', [
              '-NoProfile',
              '-NonInteractive',
              '-Command',
              WINDOWS_LIST,
            ]),
          ),
        eject: async (drive) => {
          if (!/^[A-Z]:$/iu.test(drive.id)) throw new Error('not a drive letter');
          // Shell.Application namespace 17 is "This PC"; its Eject verb works for discs and USB.
          await exec('powershell.exe', [
            '-NoProfile',
            '-NonInteractive',
            '-Command',
            `(New-Object -ComObject Shell.Application).Namespace(17).ParseName('${drive.id}').InvokeVerb('Eject')`,
          ]);
        },
      };
    default:
      return { list: async () => [] };
  }
}

/** Polls a source and reports when the set of drives changes. */
export function watchDrives(
  source: DriveSource,
  onChange: (drives: DriveView[]) => void,
  options: { intervalMs?: number } = {},
): { stop(): void; current(): DriveView[] } {
  let current: DriveView[] = [];
  let signature = '';
  let stopped = false;
  const poll = async (): Promise<void> => {
    const drives = await source.list().catch(() => current);
    const next = JSON.stringify(drives.map((drive) => [drive.id, drive.mountPath]));
    if (!stopped && next !== signature) {
      signature = next;
      current = drives;
      onChange(drives);
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), options.intervalMs ?? 3000);
  timer.unref?.();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    current: () => current,
  };
}
