#!/usr/bin/env node
// `vobiz-archive`, as npx and npm link run it: the TypeScript entry point through tsx, which the clone's
// npm ci installed (a dev dependency; the command line runs from a clone, see docs).
import { register } from 'tsx/esm/api';

register();
await import('./vobiz-archive.ts');
