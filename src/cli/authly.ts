#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { run } from './authly-cli.js';

// Like the server, the CLI reads ./.env when present; real environment variables win.
if (existsSync('.env')) process.loadEnvFile('.env');
process.exitCode = await run(process.argv.slice(2));
