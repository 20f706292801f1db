// Browser tests: the real server (debug build by `cargo build`, site by `bash .ci/site`) on a real socket with a
// fresh SQLite data directory, the project's fake OpenAI-compatible provider, and Debian's
// Chromium driven headless by Playwright (its own browser download is never used).
import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
// Made once by the main process; workers load this file again and inherit the variable.
const dataDir = process.env.E2E_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dm-e2e-'));
process.env.E2E_DATA_DIR = dataDir;
import { APP_PORT as appPort, FAKE_PORT as fakePort, FAKE_BASE_URL, FAKE_KEY } from './env';

export default defineConfig({
  testDir: './tests',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // `list`: the html reporter serves its report after a failure and can hang a run.
  reporter: 'list',
  globalTeardown: './global-teardown.ts',
  use: {
    baseURL: `http://127.0.0.1:${appPort}`,
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
    viewport: { width: 1360, height: 900 },
  },
  webServer: [
    {
      command: `${path.join(target, 'debug', 'fake-provider')} --addr 127.0.0.1:${fakePort} --chunk-delay-ms 12 --expect-key ${FAKE_KEY} --record`,
      url: `${FAKE_BASE_URL}/models`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: path.join(target, 'debug', 'server'),
      url: `http://127.0.0.1:${appPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: {
        DM_ADDR: `127.0.0.1:${appPort}`,
        DM_DATA_DIR: dataDir,
        // The fake provider is on loopback, which the upstream policy refuses by default.
        DM_UPSTREAM_ALLOW: `127.0.0.1:${fakePort}`,
        LEPTOS_SITE_ROOT: path.join(target, 'site'),
        DM_LOG: 'info,sqlx=warn',
        // The whole suite registers and signs in from one address, more than the default 10
        // attempts a minute; the limit itself is tested in server/tests/ratelimit.rs.
        DM_AUTH_ATTEMPTS_PER_MINUTE: '120',
      },
    },
  ],
});

