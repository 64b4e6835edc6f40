/** Kiosk mode in the app service: no history listed or written, the link not remembered. */
import { describe, expect, it, vi } from 'vitest';
import type { LinkView } from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import { memorySecretStore } from '../../main/core/app-service/engines.ts';
import { memoryHistory } from '../../main/core/app-service/history.ts';
import { createAppService } from '../../main/core/app-service/service.ts';

const LINK = `https://portal.example/u/${'K'.repeat(43)}`;

const view: LinkView = {
  portal: 'https://portal.example',
  provider: { name: 'Dr. Ada Lovelace', department: 'Neurology', organization: 'St. Example' },
  recipientName: 'DOE^JANE',
  patient: { name: 'DOE^JANE', birthDate: '19800101' },
  expiresAt: '2030-01-01T00:00:00.000Z',
  policy: { kind: 'none' },
  limits: { maxBytes: 1e9, maxInstances: 1000 },
  transfers: [],
};

async function setup(kiosk: boolean) {
  const secrets = memorySecretStore();
  const history = memoryHistory();
  await history.upsert({
    transferId: 'tr_earlier',
    portal: 'https://portal.example',
    provider: { name: 'Dr. Ada Lovelace', organization: 'St. Example' },
    startedAt: '2029-01-01T00:00:00.000Z',
    studies: 1,
    instances: 2,
    bytes: 10,
    state: 'available',
    message: '',
    checkedAt: '2029-01-01T00:00:00.000Z',
  });
  const service = createAppService({
    host: 'browser-host',
    version: '0.1.0',
    kiosk,
    engines: {
      link: {
        resolve: async () => view,
        transferStatus: async () => {
          throw new Error('not used');
        },
      },
    },
    platformServices: { secrets, keepAwake: { start: vi.fn(), stop: vi.fn() } },
    history,
    emit: () => {},
  });
  return { dispatch: createDispatch(service.handlers), secrets };
}

describe('kiosk mode', () => {
  it('says so in app.info, lists no history and does not remember the link', async () => {
    const { dispatch, secrets } = await setup(true);
    expect(await dispatch('app.info', undefined)).toMatchObject({
      ok: true,
      value: { kiosk: true },
    });
    expect(await dispatch('history.list', undefined)).toEqual({ ok: true, value: [] });
    expect(await dispatch('link.open', { url: LINK })).toMatchObject({ ok: true });
    expect(await secrets.get('upload-link')).toBeUndefined();
  });

  it('is off by default', async () => {
    const { dispatch, secrets } = await setup(false);
    expect(await dispatch('app.info', undefined)).toMatchObject({
      ok: true,
      value: { kiosk: false },
    });
    expect(await dispatch('history.list', undefined)).toMatchObject({
      ok: true,
      value: [{ transferId: 'tr_earlier' }],
    });
    await dispatch('link.open', { url: LINK });
    expect(await secrets.get('upload-link')).toBe(LINK);
  });
});
