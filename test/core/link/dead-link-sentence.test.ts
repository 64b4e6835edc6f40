/**
 * An expired or revoked link: the portal's own sentence reaches the person word for word (the
 * protocol's "Errors"), through the link client, the upload's requests and the app service;
 * Ferry's own sentence stands in only when the portal gives none.
 */
import type { AxiosResponse } from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatch } from '../../../main/core/app-service/dispatch.ts';
import { memorySecretStore, noKeepAwake } from '../../../main/core/app-service/engines.ts';
import { memoryHistory } from '../../../main/core/app-service/history.ts';
import { linkEngine } from '../../../main/core/app-service/real-engines.ts';
import { createAppService } from '../../../main/core/app-service/service.ts';
import { errorCatalog, isFerryError, type FerryError } from '../../../main/core/errors.ts';
import { LinkClient } from '../../../main/core/link/client.ts';
import { errorForResponse, portalSentence } from '../../../main/core/link/http.ts';
import { makeLink, removeTempDirs, startRig, type Rig } from '../upload/helpers.ts';

/** What the portal itself answers for the link, read with plain fetch. */
async function portalAnswer(
  link: string,
): Promise<{ status: number; code: string; message: string }> {
  const [base, token] = link.split('/u/') as [string, string];
  const response = await fetch(`${base}/api/v1/links/${token}`);
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, ...body.error };
}

function answer(status: number, body: unknown): AxiosResponse {
  return {
    status,
    statusText: '',
    headers: {},
    config: {} as AxiosResponse['config'],
    data: body === undefined ? '' : JSON.stringify(body),
  };
}

describe('dead links against the reference portal', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.close();
    await removeTempDirs();
  });

  it('a revoked link: the portal sentence, from resolve and from creating a transfer', async () => {
    const made = makeLink(rig);
    const client = new LinkClient(made.link);
    const info = await client.resolve();
    rig.portal.service.revokeLink(made.linkId, 'Sent to the wrong address', 'test');

    const portal = await portalAnswer(made.link);
    expect(portal).toMatchObject({ status: 403, code: 'link-revoked' });
    // The two sentences differ, so the test tells which one reached the person.
    expect(portal.message).not.toBe(errorCatalog['link-revoked'].message);

    const resolved = await client.resolve().catch((error: unknown) => error);
    expect(isFerryError(resolved, 'link-revoked')).toBe(true);
    expect((resolved as FerryError).message).toBe(portal.message);
    expect((resolved as FerryError).portalCode).toBe('link-revoked');

    const created = await client
      .createTransfer(info.transfersUrl, {
        studies: [{ studyInstanceUid: '1.2.3', instances: 1, bytes: 10 }],
        instances: 1,
        bytes: 10,
      })
      .catch((error: unknown) => error);
    expect(isFerryError(created, 'link-revoked')).toBe(true);
    expect((created as FerryError).message).toBe(portal.message);
  });

  it('an expired link: the portal sentence, also through the app service to the UI', async () => {
    const made = makeLink(rig, { expiresInMs: 1000 });
    rig.clock.offsetMs = 5000;
    try {
      const portal = await portalAnswer(made.link);
      expect(portal).toMatchObject({ status: 410, code: 'link-expired' });
      expect(portal.message).not.toBe(errorCatalog['link-expired'].message);

      const expired = await new LinkClient(made.link).resolve().catch((error: unknown) => error);
      expect(isFerryError(expired, 'link-expired')).toBe(true);
      expect((expired as FerryError).message).toBe(portal.message);

      const service = createAppService({
        host: 'browser-host',
        version: '0.1.0',
        engines: { link: linkEngine() },
        platformServices: { secrets: memorySecretStore(), keepAwake: noKeepAwake },
        history: memoryHistory(),
        emit: () => {},
      });
      const opened = await createDispatch(service.handlers)('link.open', { url: made.link });
      expect(opened).toEqual({
        ok: false,
        error: expect.objectContaining({ code: 'link-expired', message: portal.message }),
      });
    } finally {
      rig.clock.offsetMs = 0;
    }
  });
});

describe("Ferry's own sentence when the portal gives none", () => {
  it('no body, no message, or something that is not a sentence: the catalogue sentence', () => {
    for (const [status, code] of [
      [403, 'link-revoked'],
      [410, 'link-expired'],
    ] as const) {
      const bodies = [
        undefined,
        { error: { code } },
        { error: { code, message: '' } },
        { error: { code, message: '   \n\t ' } },
        { error: { code, message: 42 } },
        { error: { code, message: '!!! 404 ###' } },
        { error: { code, message: 'x'.repeat(601) } },
      ];
      for (const body of bodies) {
        const error = errorForResponse(answer(status, body), 'resolve the link');
        expect(error.code, JSON.stringify(body)).toBe(code);
        expect(error.message, JSON.stringify(body)).toBe(errorCatalog[code].message);
      }
    }
  });

  it('a sentence with control characters is shown as one clean line', () => {
    const error = errorForResponse(
      answer(403, {
        error: {
          code: 'link-revoked',
          message: 'This link was revoked.\r\n\u001b[31mAsk\u0007 for a new one.',
        },
      }),
      'resolve the link',
    );
    expect(error.message).toBe('This link was revoked. [31mAsk for a new one.');
    expect(portalSentence('Ce lien a expiré. Demandez-en un nouveau.')).toBe(
      'Ce lien a expiré. Demandez-en un nouveau.',
    );
  });

  it("other codes keep Ferry's catalogue sentence (the portal's busy/internal texts are not for patients)", () => {
    const error = errorForResponse(
      answer(503, {
        error: { code: 'archive-unavailable', message: 'PACS down', retryable: true },
      }),
      'send images',
    );
    expect(error.code).toBe('portal-busy');
    expect(error.message).toBe(errorCatalog['portal-busy'].message);
  });
});
