#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { run } from './authly-cli.js';

// Like the server, the CLI reads ./.env when present; real environment variables win.
// `authly config check` reads the file itself (or the one --env-file names), so it can say what came from where.
if (process.argv[2] !== 'config' && existsSync('.env')) process.loadEnvFile('.env');
process.exitCode = await run(process.argv.slice(2));
