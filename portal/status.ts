/**
 * The transfer status as the protocol shows it: a timeline of plain sentences the app (and the link's
 * own page) shows word for word. The sentences are made here and only here.
 */
import { TERMINAL_STATES, type TransferStatus } from '../main/core/link/model.ts';
import { formatBytes } from '../main/core/util/format.ts';
import type { StoredInstance, TimelineEvent, Transfer, UploadAccount } from './model.ts';

export type { TransferStatus } from '../main/core/link/model.ts';

function images(n: number): string {
  return n === 1 ? '1 image' : `${n} images`;
}

function providerPhrase(account: UploadAccount): string {
  const { name, department } = account.provider;
  return department ? `${name} (${department})` : name;
}

export function sentenceFor(
  event: TimelineEvent,
  transfer: Transfer,
  account: UploadAccount,
  received: number,
): string {
  const expected = transfer.manifest?.instances;
  switch (event.state) {
    case 'created':
      if (transfer.manifest === undefined) return 'Transfer started.';
      return `Transfer started: ${images(transfer.manifest.instances)} in ${
        transfer.manifest.studies.length === 1
          ? '1 study'
          : `${transfer.manifest.studies.length} studies`
      } (${formatBytes(transfer.manifest.bytes)}) to send.`;
    case 'receiving':
      return expected === undefined
        ? `Receiving images: ${received} received so far.`
        : `Receiving images: ${received} of ${expected}.`;
    case 'received':
      return expected === undefined || received >= expected
        ? `All ${images(received)} were received.`
        : `${received} of ${expected} images were received; the sender finished without the others.`;
    case 'verifying':
      return "Checking that every image is stored in the hospital's archive.";
    case 'available':
      return `The images are available to ${providerPhrase(account)}.`;
    case 'failed':
      return `The transfer failed: ${event.reason ?? 'the portal could not store the images.'}`;
    case 'expired':
      return `The upload link expired before the transfer was finished. ${
        received > 0 ? `The ${images(received)} already received are kept. ` : ''
      }Ask ${account.provider.organization || 'the hospital'} for a new link to send the rest.`;
    case 'revoked':
      return `The upload link was revoked by the hospital${event.reason ? `: ${event.reason.replace(/[.\s]+$/, '')}` : ''}. ${
        received > 0 ? `The ${images(received)} already received are kept. ` : ''
      }Ask ${account.provider.organization || 'the hospital'} for a new link if you still need to send images.`;
  }
}

export function transferStatus(
  transfer: Transfer,
  account: UploadAccount,
  held: readonly StoredInstance[],
  baseUrl: string,
): TransferStatus {
  const received = held.length;
  const timeline = transfer.timeline.map((event) => ({
    state: event.state,
    at: event.at,
    ...(event.state === 'receiving' && transfer.lastReceivedAt !== undefined
      ? { updatedAt: transfer.lastReceivedAt }
      : {}),
    message: sentenceFor(event, transfer, account, received),
  }));
  const api = `${baseUrl}/api/v1/transfers/${transfer.id}`;
  return {
    transferId: transfer.id,
    state: transfer.state,
    terminal: TERMINAL_STATES.has(transfer.state),
    message: timeline[timeline.length - 1]?.message ?? '',
    received: { instances: received, bytes: held.reduce((sum, i) => sum + i.bytes, 0) },
    expected:
      transfer.manifest === undefined
        ? null
        : { instances: transfer.manifest.instances, bytes: transfer.manifest.bytes },
    createdAt: transfer.createdAt,
    timeline,
    urls: {
      self: api,
      instances: `${api}/instances`,
      commit: `${api}/commit`,
      stow: `${baseUrl}/dicomweb/transfers/${transfer.id}/studies`,
    },
  };
}
