#!/usr/bin/env node
/**
 * Makes sure Debian's Chromium is present for the e2e tests (Playwright uses /usr/bin/chromium).
 * Does nothing when it is already installed; otherwise installs it with apt-get (needs root).
 */
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const CHROMIUM = '/usr/bin/chromium';

if (existsSync(CHROMIUM)) process.exit(0);

if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.error(`${CHROMIUM} is missing and this is not root: run "sudo apt-get install -y chromium" and retry.`);
  process.exit(1);
}
console.log(`${CHROMIUM} is missing; installing Debian's chromium with apt-get...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execSync('apt-get update', { stdio: 'inherit', env });
execSync('apt-get install -y chromium', { stdio: 'inherit', env });
if (!existsSync(CHROMIUM)) {
  console.error(`apt-get finished but ${CHROMIUM} is still missing.`);
  process.exit(1);
}
