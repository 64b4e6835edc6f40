/**
 * Server-rendered HTML: every value goes through `html` tagged templates, which escape what they
 * interpolate; only `raw()` (built here from escaped pieces) passes through. No scripts at all, so
 * the CSP can forbid them outright.
 */
import type { ServerResponse } from 'node:http';

const RAW = Symbol('raw-html');
export interface RawHtml {
  readonly [RAW]: string;
}

export function raw(text: string): RawHtml {
  return { [RAW]: text };
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Interpolated = string | number | RawHtml | readonly Interpolated[] | undefined | null | false;

function render(value: Interpolated): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'object' && RAW in value) return (value as RawHtml)[RAW];
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): RawHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return raw(out);
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function sendHtml(
  res: ServerResponse,
  status: number,
  title: string,
  body: RawHtml,
  options: { refreshSeconds?: number } = {},
): void {
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}" />` : ''}
        <title>${title} · DICOM Ferry portal</title>
        <link rel="stylesheet" href="/static/portal.css" />
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
  });
  res.end(page[RAW]);
}

export const PORTAL_CSS = `
:root { font-family: system-ui, sans-serif; color: #1b1f24; background: #f6f7f9; }
main { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #dde1e6; vertical-align: top; }
form.inline { display: inline; }
label { display: block; margin: .6rem 0 .2rem; font-weight: 600; }
input[type=text], input[type=email], input[type=password], input[type=date], input[type=url], select, textarea { width: 100%; max-width: 30rem; padding: .4rem; font: inherit; }
input.link { max-width: 100%; font-family: ui-monospace, monospace; }
button { font: inherit; padding: .4rem 1rem; margin-top: .8rem; cursor: pointer; }
button.danger { color: #a40000; }
.notice { background: #fff; border-left: 4px solid #2f6fd6; padding: .6rem 1rem; }
.error { background: #fff; border-left: 4px solid #c62828; padding: .6rem 1rem; }
ol.timeline li { margin: .3rem 0; }
.muted { color: #5a6472; font-size: .9rem; }
nav { display: flex; gap: 1rem; align-items: center; justify-content: space-between; }
`;
