#!/usr/bin/env node
// The `ferry` command: runs main/cli.ts through tsx so the CLI needs no separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli.ts');
process.exitCode = await main(process.argv.slice(2));
