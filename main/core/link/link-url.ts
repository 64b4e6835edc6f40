/**
 * Upload links: `https://<portal>/u/<token>`, and the same as `ferry://<portal>/u/<token>` for the
 * desktop deep link (docs/upload-link-protocol.md, "Link"). The token is a bearer secret: it is
 * never logged, never written in clear, and sent only to the portal's own origin or to an address
 * the portal names over https.
 */
import { createHash } from 'node:crypto';
import { FerryError } from '../errors.ts';

export interface UploadLink {
  /** The portal's origin and base path, without a trailing slash, e.g. https://portal.example */
  readonly portalUrl: string;
  readonly token: string;
  /** A short, non-secret name for the link in logs and journals (first bytes of SHA-256 of the token). */
  readonly fingerprint: string;
}

const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

/** Loopback hosts may be reached over plain http (tests, a portal on the same machine). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function parseUploadLink(text: string): UploadLink {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new FerryError('link-invalid', { detail: 'not a URL' });
  }
  const segments = url.pathname.split('/');
  const u = segments.lastIndexOf('u');
  const token = u >= 0 && u === segments.length - 2 ? segments[u + 1] : undefined;
  if (token === undefined || !TOKEN.test(token)) {
    throw new FerryError('link-invalid', { detail: 'no /u/<token> at the end of the path' });
  }
  const basePath = segments.slice(0, u).join('/');
  let scheme: string;
  switch (url.protocol) {
    case 'https:':
      scheme = 'https:';
      break;
    case 'http:':
      if (!isLoopbackHost(url.hostname)) {
        throw new FerryError('link-insecure', { detail: 'plain http link to a non-loopback host' });
      }
      scheme = 'http:';
      break;
    case 'ferry:':
      // The deep link names the same portal; a portal on this machine may have no TLS.
      scheme = isLoopbackHost(url.hostname) ? 'http:' : 'https:';
      break;
    default:
      throw new FerryError('link-invalid', { detail: `scheme ${url.protocol}` });
  }
  return {
    portalUrl: `${scheme}//${url.host}${basePath}`.replace(/\/+$/, ''),
    token,
    fingerprint: createHash('sha256').update(token).digest('hex').slice(0, 12),
  };
}

/**
 * Checks an address the portal gave (STOW-RS, status, commit) before the token is sent there: the
 * token goes only to the portal base it came with (protocol, section 1), over https unless that
 * base is a loopback http one.
 */
export function checkPortalAddress(link: UploadLink, address: string): string {
  let url: URL;
  try {
    url = new URL(address, `${link.portalUrl}/`);
  } catch {
    throw new FerryError('portal-protocol', {
      detail: 'the portal named an address that is not a URL',
    });
  }
  const base = new URL(`${link.portalUrl}/`);
  if (
    url.protocol !== base.protocol ||
    url.host !== base.host ||
    !url.pathname.startsWith(base.pathname)
  ) {
    throw new FerryError('link-insecure', {
      detail: 'the portal named an address outside its own base',
    });
  }
  return url.href;
}
