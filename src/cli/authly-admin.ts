#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { runAdmin } from './admin-cli.js';

// `authly-admin …` is `authly admin …`.
if (existsSync('.env')) process.loadEnvFile('.env');
process.exitCode = await runAdmin(process.argv.slice(2));
