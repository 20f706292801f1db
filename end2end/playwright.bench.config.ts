// Browser benchmarks (not tests: nothing here passes or fails on a duration). The release
// build (`bash .ci/site --release` and the `server-release` server) on its own ports and data
// directory, driven by the same Chromium. Run by `bash .ci/dev bench-load` (first-load.bench.ts)
// and `bash .ci/dev bench-diagram` (diagram-frames.bench.ts); figures go to BENCHMARKS.md.
import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

process.env.E2E_APP_PORT ??= '3300';
process.env.E2E_FAKE_PORT ??= '3399';
const root = path.resolve(__dirname, '..');
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
const dataDir = process.env.E2E_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dm-bench-'));
process.env.E2E_DATA_DIR = dataDir;
const appPort = Number(process.env.E2E_APP_PORT);

export default defineConfig({
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  timeout: 30 * 60_000,
  workers: 1,
  retries: 0,
  reporter: 'list',
  use: {
    baseURL: `http://127.0.0.1:${appPort}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    },
    viewport: { width: 1360, height: 900 },
  },
  webServer: [
    {
      command: path.join(target, 'server-release', 'server'),
      url: `http://127.0.0.1:${appPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: {
        DM_ADDR: `127.0.0.1:${appPort}`,
        DM_DATA_DIR: dataDir,
        LEPTOS_SITE_ROOT: path.join(target, 'site'),
        DM_LOG: 'warn',
        DM_AUTH_ATTEMPTS_PER_MINUTE: '120',
      },
    },
  ],
});
