/**
 * A real Orthanc with its DICOMweb plugin for integration tests: a plain process on a free loopback
 * port, storage in a temp dir, generated config.json. `missingOrthanc()` says why it cannot run
 * (tests then skip with a printed reason; CI installs the Debian packages and fails on skips).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';

const PLUGIN_CANDIDATES = ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'];

function orthancBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '')
    .split(path.delimiter)
    .concat(['/usr/sbin', '/usr/bin'])) {
    const candidate = path.join(dir, 'Orthanc');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function dicomWebPlugin(): string | undefined {
  const known = PLUGIN_CANDIDATES.find((p) => existsSync(p));
  if (known !== undefined) return known;
  try {
    const files = execFileSync('dpkg', ['-L', 'orthanc-dicomweb'], { encoding: 'utf8' }).split(
      '\n',
    );
    return files.find((f) => /libOrthancDicomWeb\.so/.test(f) && existsSync(f));
  } catch {
    return undefined;
  }
}

/** Undefined when Orthanc and its DICOMweb plugin are installed; otherwise why not. */
export function missingOrthanc(): string | undefined {
  if (orthancBinary() === undefined)
    return 'Orthanc is not installed (Debian: apt-get install orthanc)';
  if (dicomWebPlugin() === undefined) {
    return 'the Orthanc DICOMweb plugin is not installed (Debian: apt-get install orthanc-dicomweb)';
  }
  return undefined;
}

export interface RunningOrthanc {
  /** Orthanc's REST root, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The DICOMweb root, e.g. http://127.0.0.1:41234/dicom-web */
  readonly dicomWebUrl: string;
  /** Orthanc's REST answer for a GET, parsed as JSON. */
  get(pathname: string): Promise<unknown>;
  /** SOP Instance UIDs of every instance Orthanc holds, one entry per stored instance. */
  listInstances(): Promise<string[]>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops and deletes the storage. */
  dispose(): Promise<void>;
}

export async function startOrthanc(
  options: { user?: { name: string; password: string } } = {},
): Promise<RunningOrthanc> {
  const binary = orthancBinary();
  const plugin = dicomWebPlugin();
  if (binary === undefined || plugin === undefined) throw new Error(missingOrthanc());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-orthanc-'));
  const port = await freePort();
  const config = {
    Name: 'ferry-test-orthanc',
    HttpPort: port,
    HttpServerEnabled: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: options.user !== undefined,
    ...(options.user ? { RegisteredUsers: { [options.user.name]: options.user.password } } : {}),
    DicomServerEnabled: false,
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'index'),
    StorageCompression: false,
    Plugins: [plugin],
    ConcurrentJobs: 1,
    HttpThreadsCount: 8,
    DicomWeb: {
      Enable: true,
      Root: '/dicom-web/',
      EnableWado: true,
      Ssl: false,
      StudiesMetadata: 'MainDicomTags',
    },
  };
  const configPath = path.join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${port}`;
  const authHeader: Record<string, string> = options.user
    ? {
        authorization: `Basic ${Buffer.from(`${options.user.name}:${options.user.password}`).toString('base64')}`,
      }
    : {};
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    output = '';
    const proc = spawn(binary as string, [configPath], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    proc.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null)
        throw new Error(`Orthanc exited with ${proc.exitCode}:\n${output}`);
      try {
        const res = await fetch(`${url}/system`, { headers: authHeader });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
    throw new Error(`Orthanc did not answer on ${url} within 30 s:\n${output}`);
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async function get(pathname: string): Promise<unknown> {
    const res = await fetch(`${url}${pathname}`, { headers: authHeader });
    if (!res.ok) throw new Error(`Orthanc GET ${pathname}: HTTP ${res.status}`);
    return res.json();
  }

  await start();
  const dicomWebUrl = options.user
    ? `http://${options.user.name}:${options.user.password}@127.0.0.1:${port}/dicom-web`
    : `${url}/dicom-web`;
  return {
    url,
    dicomWebUrl,
    get,
    async listInstances() {
      const instances = (await get('/instances?expand')) as {
        MainDicomTags: { SOPInstanceUID: string };
      }[];
      return instances.map((i) => i.MainDicomTags.SOPInstanceUID);
    },
    stop,
    async restart() {
      await stop();
      await start();
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
