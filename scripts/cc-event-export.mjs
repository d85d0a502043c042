#!/usr/bin/env node
// The `cc-event-export` bin: runs the TypeScript entry through tsx, without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./cc-event-export.ts');
