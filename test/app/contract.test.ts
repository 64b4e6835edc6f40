/** api.ts: the method and event lists, request schemas, static files and the CSP. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, METHOD_NAMES, checkRequest, isMethodName } from '../../main/core/api.ts';
import { contentSecurityPolicy, readStaticFile } from '../../main/core/app-service/static-files.ts';

describe('the api.ts contract', () => {
  it('names the methods and events the UI uses', () => {
    expect(METHOD_NAMES).toEqual(
      expect.arrayContaining([
        'link.open',
        'media.listDrives',
        'media.pickFolder',
        'media.scan',
        'media.cancelScan',
        'validate.run',
        'preview.instance',
        'upload.start',
        'upload.pause',
        'upload.resume',
        'upload.cancel',
        'transfer.status',
        'history.list',
      ]),
    );
    expect(EVENT_NAMES).toEqual(
      expect.arrayContaining([
        'scan.progress',
        'scan.studyList',
        'upload.progress',
        'link.opened',
        'drives.changed',
      ]),
    );
    expect(isMethodName('constructor')).toBe(false);
    expect(isMethodName('__proto__')).toBe(false);
  });

  it.each([
    ['app.info', undefined, undefined],
    ['app.info', {}, undefined],
    ['app.info', { x: 1 }, 'request must be empty'],
    ['link.open', { url: '' }, 'request.url must be 1 to 2048 characters'],
    ['link.open', { url: 'x'.repeat(3000) }, 'request.url must be 1 to 2048 characters'],
    ['link.open', null, 'request must be an object'],
    ['link.open', { url: 'x', extra: 1 }, 'request.extra is not expected'],
    [
      'upload.start',
      { scanId: 's', studyKeys: ['p1s1'], burnedInConfirmed: 'yes', identityConfirmed: false },
      'request.burnedInConfirmed must be true or false',
    ],
    [
      'upload.start',
      { scanId: 's', studyKeys: [1], burnedInConfirmed: true, identityConfirmed: false },
      'request.studyKeys[0] must be text',
    ],
    ['upload.pause', { uploadId: 'up_../x' }, 'request.uploadId is not in the expected form'],
    ['transfer.status', {}, undefined],
    ['transfer.status', { transferId: 'tr_1' }, undefined],
  ] as const)('%s(%j) -> %s', (method, request, problem) => {
    expect(checkRequest(method, request)).toBe(problem);
  });
});

describe('the renderer files (static-files.ts)', () => {
  it('serves files under the root only, with known types', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-static-'));
    try {
      await mkdir(path.join(dir, 'root', 'assets'), { recursive: true });
      await writeFile(path.join(dir, 'root', 'index.html'), '<p>hi</p>');
      await writeFile(path.join(dir, 'root', 'assets', 'a.js'), 'x');
      await writeFile(path.join(dir, 'root', 'assets', 'notes.txt'), 'x');
      await writeFile(path.join(dir, 'outside.html'), 'no');
      const root = path.join(dir, 'root');
      expect((await readStaticFile(root, '')).contentType).toContain('text/html');
      expect((await readStaticFile(root, 'assets/a.js')).contentType).toContain('javascript');
      for (const bad of [
        '../outside.html',
        '%2e%2e/outside.html',
        'assets/notes.txt',
        'assets\\..\\..\\outside.html',
        '%E0%A4%A',
        'missing.js',
        'a\0.js',
      ]) {
        expect((await readStaticFile(root, bad)).status, bad).toBe(404);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds a CSP without inline code, frames or forms', () => {
    const csp = contentSecurityPolicy(['ws://127.0.0.1:1234']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe');
    expect(csp).toContain('connect-src ws://127.0.0.1:1234');
    expect(contentSecurityPolicy()).toContain("connect-src 'none'");
  });
});
