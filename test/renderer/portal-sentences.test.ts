/**
 * The portal's timeline sentences (portal/status.ts) as the app shows them: made by the real
 * portal code, translated by the renderer's patterns, sizes and counts in the chosen locale. The
 * two sides only meet through these sentences, so a change in one must show here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  TERMINAL_STATES,
  TRANSFER_STATES,
  type TransferState,
} from '../../main/core/link/model.ts';
import { formatBytes } from '../../main/core/util/format.ts';
import { portalSentence, portalState, setLocale } from '../../renderer/i18n/index.ts';
import * as portalModel from '../../portal/model.ts';
import { sentenceFor } from '../../portal/status.ts';
import type { Transfer, UploadAccount } from '../../portal/model.ts';

afterEach(() => setLocale('en'));

const account: UploadAccount = {
  id: 'acc-1',
  createdAt: '2026-01-01T00:00:00Z',
  createdBy: 'cli',
  patient: { name: 'Doe^Jane', birthDate: '19800101' },
  recipient: { name: 'Jane Doe', email: 'jane@example.org' },
  provider: { name: 'Dr. Rivera', department: 'Radiology', organization: 'Example Hospital' },
  policy: { kind: 'none' },
  limits: { maxBytes: 10_000_000_000, maxInstances: 100_000, maxRequestBytes: 50_000_000 },
};

function transfer(instances: number, bytes: number): Transfer {
  return {
    id: 'tr-1',
    accountId: account.id,
    linkId: 'link-1',
    createdAt: '2026-01-01T00:00:00Z',
    manifest: {
      studies: [
        { studyInstanceUid: '1.2.3', instances: instances - 1, bytes: bytes - 1000 },
        { studyInstanceUid: '1.2.4', instances: 1, bytes: 1000 },
      ],
      instances,
      bytes,
    },
    state: 'created',
    timeline: [],
  };
}

const sentence = (state: TransferState, t: Transfer, received: number): string =>
  sentenceFor({ state, at: '2026-01-01T00:00:00Z' }, t, account, received);

describe('one size format (main/core/util/format.ts)', () => {
  it('decimal SI units with their right symbols', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.0 kB');
    expect(formatBytes(5_660)).toBe('5.7 kB');
    expect(formatBytes(56_600)).toBe('57 kB');
    expect(formatBytes(130_000_000)).toBe('130 MB');
    expect(formatBytes(1_500_000_000)).toBe('1.5 GB');
    expect(formatBytes(2_000_000_000_000_000)).toBe('2000 TB');
  });

  it("is the one the portal's sentences use", () => {
    expect(sentence('created', transfer(12_345, 1_234_567_890), 0)).toBe(
      'Transfer started: 12345 images in 2 studies (1.2 GB) to send.',
    );
  });
});

describe("the portal's sentences in Spanish", () => {
  it('translates what the portal really writes, with numbers and sizes in the locale', () => {
    setLocale('es');
    expect(portalSentence(sentence('created', transfer(12_345, 1_234_567_890), 0))).toBe(
      'Envío iniciado: 12.345 imágenes en 2 estudios (1,2 GB) por enviar.',
    );
    expect(portalSentence(sentence('created', transfer(3, 999), 0))).toBe(
      'Envío iniciado: 3 imágenes en 2 estudios (999 B) por enviar.',
    );
    expect(portalSentence(sentence('receiving', transfer(12_345, 5_000_000), 10_000))).toBe(
      'Recibiendo imágenes: 10.000 de 12.345.',
    );
    expect(portalSentence(sentence('verifying', transfer(2, 5_000_000), 2))).toBe(
      'Comprobando que cada imagen está guardada en el archivo del hospital.',
    );
  });

  it('leaves English word for word', () => {
    const written = sentence('created', transfer(12_345, 1_234_567_890), 0);
    expect(portalSentence(written)).toBe(written);
  });

  it('names every state the protocol has', () => {
    setLocale('es');
    for (const state of TRANSFER_STATES) expect(portalState(state), state).not.toBe(state);
  });
});

describe('the transfer states are defined once', () => {
  it('the portal uses the protocol module’s sets', () => {
    expect(portalModel.TERMINAL_STATES).toBe(TERMINAL_STATES);
    expect([...TERMINAL_STATES].sort()).toEqual(['available', 'expired', 'failed', 'revoked']);
  });
});
