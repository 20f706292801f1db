// Checks Mermaid ER diagrams with Mermaid's own parser.
//
// Usage: node checkers/mermaid.mjs <file.mmd>...
// Mermaid needs a DOM, so the parser runs in Debian's headless Chromium (driven by Playwright)
// on a blank page into which mermaid's browser bundle is loaded from node_modules. Each file must
// parse as an `er` diagram; the exit code is 1 when any file does not, 2 on a usage error.
import { chromium } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node checkers/mermaid.mjs <file.mmd>...');
  process.exit(2);
}
const bundle = createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let failed = 0;
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><head></head><body></body></html>');
  await page.addScriptTag({ path: bundle });
  await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false }));
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const result = await page.evaluate(async (source) => {
      try {
        const parsed = await window.mermaid.parse(source);
        return { type: parsed && parsed.diagramType };
      } catch (error) {
        return { error: String((error && error.message) || error) };
      }
    }, text);
    if (result.error !== undefined) {
      failed += 1;
      console.log(`error ${file}: ${result.error}`);
    } else if (result.type !== 'er') {
      failed += 1;
      console.log(`error ${file}: parsed as ${result.type}, expected an er diagram`);
    } else {
      console.log(`ok ${file}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed === 0 ? 0 : 1);
