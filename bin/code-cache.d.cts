// Types of bin/code-cache.cjs (plain JavaScript: it runs before any build), for the tests.
export type CodeCacheState = 'used' | 'absent' | 'refused' | 'off';

export function defaultCacheDir(env?: NodeJS.ProcessEnv, platform?: NodeJS.Platform): string;

export function loadWithCodeCache(
  file: string,
  options: { cacheDir: string | undefined; build: string; name: string },
): { exports: unknown; state: () => CodeCacheState; save: () => void };
