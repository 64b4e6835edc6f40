/**
 * Files of the built renderer (dist/renderer), for Electron's app:// protocol and the browser
 * host alike. Only files under the root, only known types; everything else is 404.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export interface StaticFile {
  readonly status: 200 | 404;
  readonly contentType: string;
  readonly body: Buffer;
}

const notFound: StaticFile = {
  status: 404,
  contentType: 'text/plain; charset=utf-8',
  body: Buffer.from('Not found'),
};

/** `relative` is the URL path below the root, still percent-encoded (e.g. "assets/index.js"). */
export async function readStaticFile(root: string, relative: string): Promise<StaticFile> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return notFound;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return notFound;
  const wanted = decoded === '' || decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const base = path.resolve(root);
  const file = path.resolve(base, `.${path.posix.normalize(`/${wanted}`)}`);
  if (file !== base && !file.startsWith(base + path.sep)) return notFound;
  const contentType = TYPES[path.extname(file).toLowerCase()];
  if (!contentType) return notFound;
  try {
    return { status: 200, contentType, body: await readFile(file) };
  } catch {
    return notFound;
  }
}

/**
 * The renderer's Content-Security-Policy (shaped like Electron Fiddle's): nothing by default,
 * scripts and styles only from the app itself, no inline code, no frames, no forms.
 * `connect` names what the page may open (the browser host's WebSocket); none in Electron.
 */
export function contentSecurityPolicy(connect: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connect.length > 0 ? connect.join(' ') : "'none'"}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers every renderer response carries. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
    'cache-control': 'no-store',
  };
}
