/** The upload-link protocol client (docs/upload-link-protocol.md). */
export { LinkClient, PROTOCOL_VERSION, type LinkClientOptions } from './client.ts';
export { checkPortalAddress, parseUploadLink, type UploadLink } from './link-url.ts';
export { followStatus, type FollowOptions } from './status.ts';
export type * from './model.ts';
