/**
 * Child process of mask-cine.test.ts: masks a compressed cine the way the upload does — once to
 * prepare (length, UIDs), once to send (streamed, here to a file) — and prints its peak RSS
 * growth. Alone in its process, so the figure is this work's, not the test runner's.
 *
 * Arguments: SOURCE OUT X,Y,WIDTH,HEIGHT
 */
import { stat } from 'node:fs/promises';

import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { deidentifyInstance, writeInstanceFile } from '../../../main/core/deid/instance.ts';

const [source, out, rectText] = process.argv.slice(2);
if (!source || !out || !rectText) throw new Error('usage: SOURCE OUT X,Y,WIDTH,HEIGHT');
const [x, y, width, height] = rectText.split(',').map(Number) as [number, number, number, number];
const policy: DeidentifyPolicy = {
  kind: 'deidentify',
  profile: 'basic',
  options: [],
  key: new Uint8Array(32).fill(9),
};
const request = { masks: [{ x, y, width, height }] };
const input = { kind: 'file', path: source } as const;

// Codecs and modules loaded, one frame decoded: what follows is the cine's own cost.
await deidentifyInstance(input, policy, request);
const baseline = process.memoryUsage().rss;
let sampled = baseline;
const timer = setInterval(() => {
  sampled = Math.max(sampled, process.memoryUsage().rss);
}, 2);

const prepared = await deidentifyInstance(input, policy, request);
const sent = await deidentifyInstance(input, policy, request);
await writeInstanceFile(sent, out);
clearInterval(timer);
// The kernel's own peak (kilobytes on Linux) catches what sampling between frames would miss.
const peak = Math.max(sampled, process.resourceUsage().maxRSS * 1024);
process.stdout.write(
  JSON.stringify({
    baseline,
    peakGrowth: peak - baseline,
    preparedLength: prepared.byteLength,
    sentLength: sent.byteLength,
    fileLength: (await stat(out)).size,
  }),
);
