#!/usr/bin/env node
// The `cc-event-store` bin: runs core/cli.ts through tsx's ESM loader, so the TypeScript
// sources (and `.ts` plugins named in configs) load without a build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../core/cli.ts');
const code = await runCli(process.argv.slice(2));
if (code !== undefined) process.exit(code);
