// Removes the server's temporary data directory after the run.
import * as fs from 'node:fs';

export default async function globalTeardown() {
  const dir = process.env.E2E_DATA_DIR;
  if (dir && dir.includes('dm-e2e-')) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
