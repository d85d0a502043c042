#!/usr/bin/env node
// The `cc-event-client` bin: runs the TypeScript entry through tsx, without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./cc-event-client.ts');
