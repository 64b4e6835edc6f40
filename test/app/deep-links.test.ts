import { describe, expect, it } from 'vitest';
import { findLinkInArgv } from '../../main/app/deep-links.ts';

const token = 'A'.repeat(43);

describe('links from the command line and the OS (main/app/deep-links.ts)', () => {
  it('finds a ferry:// deep link among Electron arguments', () => {
    const argv = [
      '/opt/Ferry/ferry',
      '--allow-file-access-from-files',
      `ferry://portal.example/u/${token}`,
    ];
    expect(findLinkInArgv(argv)).toBe(`ferry://portal.example/u/${token}`);
  });

  it('finds https links and --link URL', () => {
    expect(findLinkInArgv(['ferry', `https://portal.example/p/u/${token}`])).toBe(
      `https://portal.example/p/u/${token}`,
    );
    expect(findLinkInArgv(['ferry', '--link', `https://portal.example/u/${token}`])).toBe(
      `https://portal.example/u/${token}`,
    );
    expect(findLinkInArgv(['ferry', `--link=ferry://127.0.0.1:8470/u/${token}`])).toBe(
      `ferry://127.0.0.1:8470/u/${token}`,
    );
  });

  it('ignores what is not an upload link', () => {
    expect(findLinkInArgv(['ferry', '.', 'https://example.org/'])).toBeUndefined();
    expect(findLinkInArgv(['ferry', `http://portal.example/u/${token}`])).toBeUndefined();
    expect(findLinkInArgv(['ferry', '--link'])).toBeUndefined();
    expect(findLinkInArgv(['ferry', `javascript://portal.example/u/${token}`])).toBeUndefined();
  });
});
