// A server process of a test's or benchmark's own, on a port of its own, over a data directory
// of its own: what the offline tests need, since only stopping the process (not the network)
// stops a service worker's fetches. Stopped and started again, it keeps its data.
import { expect, type Browser } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pushLibrary, CSRF, PASSWORD, uniqueName } from './helpers';

const root = path.resolve(__dirname, '..');
export const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');

export class OwnServer {
  readonly base: string;
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dm-own-server-'));
  private process: ChildProcess | null = null;

  /** `profile`: the cargo profile whose `server` binary runs (`debug` for tests,
   * `server-release` for benchmarks); `env`: settings beyond address, data and site. */
  constructor(
    readonly port: number,
    readonly profile: 'debug' | 'server-release',
    readonly env: Record<string, string> = {},
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  /** Starts the server over `site` (a built site folder) and waits until it answers. */
  async start(site = path.join(target, 'site')) {
    const server = spawn(path.join(target, this.profile, 'server'), [], {
      env: {
        ...process.env,
        ...this.env,
        DM_ADDR: `127.0.0.1:${this.port}`,
        DM_DATA_DIR: this.dataDir,
        LEPTOS_SITE_ROOT: site,
        DM_LOG: 'warn',
      },
      stdio: 'ignore',
    });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`${this.base}/healthz`)).ok) {
          this.process = server;
          return;
        }
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    server.kill('SIGKILL');
    throw new Error(`the server on port ${this.port} did not start`);
  }

  /** Stops the process (SIGTERM, a graceful shutdown) and waits until it has exited; nothing
   * to do if it is not running. */
  async stop() {
    const server = this.process;
    this.process = null;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }

  /** A new user of this server, signed in in a browser context of its own, with the library
   * pushed (two drafts). */
  async userWithLibrary(browser: Browser, stem: string) {
    const context = await browser.newContext({ baseURL: this.base });
    const registered = await context.request.post('/api/v1/auth/register', {
      headers: CSRF,
      data: { username: uniqueName(stem), password: PASSWORD },
    });
    expect(registered.ok()).toBe(true);
    const { domain } = await pushLibrary(context);
    return { context, domain };
  }
}
