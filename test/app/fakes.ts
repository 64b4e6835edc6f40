/**
 * Small fakes of the Electron pieces main/app and the preload touch: enough behaviour to run the
 * wiring on plain Node (the Electron binary cannot run here; ARCHITECTURE.md).
 */
type Handler = (...args: never[]) => unknown;

export class FakeIpcMain {
  readonly handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();

  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, handler);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  invoke(channel: string, event: unknown, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) return Promise.reject(new Error(`No handler registered for '${channel}'`));
    return Promise.resolve(handler(event, ...args));
  }
}

/** An ipcRenderer joined to a FakeIpcMain, with a sender event of the given frame. */
export class FakeIpcRenderer {
  readonly listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();

  constructor(
    private readonly main: FakeIpcMain | undefined,
    private readonly event: () => unknown = () => ({}),
  ) {}

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    if (!this.main) return Promise.resolve({ ok: true, value: { channel, args } });
    return this.main.invoke(channel, this.event(), ...args);
  }

  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    return this;
  }

  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this {
    this.listeners.get(channel)?.delete(listener);
    return this;
  }

  /** What webContents.send would deliver. */
  emit(channel: string, payload: unknown): void {
    for (const listener of this.listeners.get(channel) ?? []) {
      listener({ sender: 'the-ipc-renderer-itself' }, payload);
    }
  }
}

export class FakeContextBridge {
  readonly exposed = new Map<string, unknown>();

  exposeInMainWorld(key: string, api: unknown): void {
    if (this.exposed.has(key)) throw new Error(`${key} exposed twice`);
    this.exposed.set(key, api);
  }
}

export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
}

export function senderEvent(
  id: number,
  url: string,
  options: { subframe?: boolean; noFrame?: boolean } = {},
) {
  const top: FakeFrame = { url, parent: null };
  const frame = options.subframe ? { url, parent: top } : top;
  return {
    sender: { id, mainFrame: top },
    senderFrame: options.noFrame ? null : frame,
  };
}

/** Records `on` registrations of an EventEmitter-like Electron object. */
export class FakeEmitter {
  readonly listeners = new Map<string, Handler[]>();

  on(name: string, listener: Handler): this {
    const list = this.listeners.get(name) ?? [];
    list.push(listener);
    this.listeners.set(name, list);
    return this;
  }

  once(name: string, listener: Handler): this {
    return this.on(name, listener);
  }

  fire(name: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      (listener as (...a: unknown[]) => unknown)(...args);
    }
  }
}

export function preventable() {
  return {
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
}
