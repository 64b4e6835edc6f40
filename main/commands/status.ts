import { parseArgs } from 'node:util';
import { isFerryError } from '../core/errors.ts';
import { LinkClient } from '../core/link/client.ts';
import type { TransferStatus } from '../core/link/model.ts';
import type { Io } from './io.ts';

function formatTimeline(status: TransferStatus): string {
  const lines = [`Transfer ${status.transferId}: ${status.message}`];
  for (const entry of status.timeline) {
    lines.push(`  ${new Date(entry.at).toUTCString()}  ${entry.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `ferry status --link URL [--transfer ID] [--all] [--json]`: the timeline as the portal shows it. */
export async function runStatus(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      link: { type: 'string' },
      transfer: { type: 'string' },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.link) {
    io.stderr(
      'ferry status: give the upload link, e.g. ferry status --link https://portal.example/u/…\n',
    );
    return 2;
  }
  try {
    const client = new LinkClient(values.link);
    // A dead link still resolves read-only (protocol 3.1): its reason and where its transfers are.
    const link = await client.resolveForStatus();
    if (link.state !== 'active' && !values.json) io.stderr(`${link.reason}\n`);
    let transfers = await client.listTransfers(link.transfersUrl);
    if (values.transfer) transfers = transfers.filter((t) => t.transferId === values.transfer);
    else if (!values.all) transfers = transfers.slice(0, 1);
    if (values.json) {
      const linkJson = {
        state: link.state,
        ...(link.state === 'active' ? { expiresAt: link.info.expiresAt } : { reason: link.reason }),
      };
      // One transfer: its status document with `link` added (nothing sent yet: `link` alone).
      const document = values.all
        ? { link: linkJson, transfers }
        : { ...transfers[0], link: linkJson };
      io.stdout(`${JSON.stringify(document, null, 2)}\n`);
    } else if (transfers.length === 0) {
      io.stdout(
        values.transfer
          ? 'No such transfer for this link.\n'
          : 'Nothing has been sent with this link yet.\n',
      );
    } else {
      io.stdout(transfers.map(formatTimeline).join('\n'));
    }
    return values.transfer && transfers.length === 0 ? 1 : 0;
  } catch (error) {
    if (isFerryError(error)) {
      if (values.json) io.stdout(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
      io.stderr(`ferry status: ${error.message}${error.detail ? ` (${error.detail})` : ''}\n`);
      return 1;
    }
    throw error;
  }
}
