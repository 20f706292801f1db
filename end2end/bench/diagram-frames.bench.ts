// Frame times of the ER diagram of a large draft (issue 14): a generated 500-table draft
// (`generated_model(500, 20, 2026)`, written by `cargo run -p model --example generated_model`)
// is pushed as another device would, and a fresh browser opens its diagram. Measured:
// - how long from navigation until the page is hydrated and until every box of the fitted
//   diagram is in the DOM, cold (fresh browser: the draft comes with the first sync and the
//   tools module lays it out) and warm (a reload: the draft is in IndexedDB, the wasm cached);
// - frames while the user pans and zooms, phase by phase: panning at 100 % (detail: every row
//   drawn), panning an overview (names only) at 41 % and at fit (every table on screen), and
//   zooming with the wheel in and out across the detail threshold (45 %).
// Pans are mouse drags on the background at 1,000 px a second with a move every 8 ms (a common
// mouse's 125 Hz); the wheel sends an event every 16 ms; both through CDP without waiting for
// the page, as a device would. Frames are counted three ways:
// - rAF: the gap between two `requestAnimationFrame` callbacks (their timestamps, the frames'
//   start times), recorded in the page; the screen refreshes at 60 Hz, so a frame on time is
//   about 16.7 ms (give or take 0.1 ms) and a late one a multiple of it;
// - compositor: each phase runs under a Chromium trace of the frame category only, which is
//   light: the compositor's own account of every frame (presented, presented without the main
//   thread's update, dropped), which is what the user sees;
// - frame CPU (with DM_BENCH_TRACE=1): the phases run a second time under a full timeline trace
//   (kept per phase in target/bench/diagram-frames-<n>.trace.json, to open in DevTools); the
//   renderer main thread's time is summed by event (scripting, style, layout, paint) and its
//   CPU time per frame computed. Tracing slows the page, so those frame figures are reported
//   apart.
// Every sixth frame also counts the boxes (`g.dm-entity`) and all elements in the diagram's SVG,
// to show that only what is near the screen is in the DOM. Long animation frames (over 50 ms,
// the browser's own `long-animation-frame` entries) say where a slow frame went. DM_BENCH_CSS
// adds style rules to the page before the phases, to try a rendering change without a build (an
// experiment, not the product).
//
// Prints tables and writes target/bench/diagram-frames.json. A benchmark: no duration is
// asserted; it fails only if the diagram never appears. Run by `bash .ci/dev bench-diagram`;
// figures in BENCHMARKS.md, "Diagram frames (issue 14)".
import { test, expect, Page, BrowserContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { newUser, freshBrowser, pushMutations } from '../helpers';

const ENTITIES = 500;
const ATTRIBUTES = 20;
const SEED = 2026;
const PHASE_MS = Number(process.env.DM_BENCH_PHASE_MS ?? 3000);
const LOAD_RUNS = Number(process.env.DM_BENCH_RUNS ?? 3);
const FRAME_BUDGET = 1000 / 60;
const root = path.resolve(__dirname, '..', '..');

/** The generated model, from the core's own generator (valid, so the server takes it). */
function generatedModel(): { entities: { name: string }[] } {
  const json = execFileSync('cargo', ['run', '-q', '-p', 'model', '--example', 'generated_model', '--',
    String(ENTITIES), String(ATTRIBUTES), String(SEED)], { cwd: root, maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(json.toString('utf8'));
}

/** Runs in the page before its scripts: a frame recorder that `startFrames`/`stopFrames` drive. */
function installRecorder() {
  type Recorder = {
    on: boolean; last: number; n: number; deltas: number[]; boxes: number[]; elements: number[]; inputs: number;
    loaf: { duration: number; blocking: number; script: number; render: number; styleLayout: number }[];
  };
  const w = window as unknown as { __frames: Recorder };
  w.__frames = { on: false, last: 0, n: 0, deltas: [], boxes: [], elements: [], inputs: 0, loaf: [] };
  // Input events the page handled (coalesced moves count once, as the app sees them).
  for (const type of ['pointermove', 'wheel']) {
    window.addEventListener(type, () => {
      if (w.__frames.on) w.__frames.inputs++;
    }, { capture: true, passive: true });
  }
  const loop = (t: number) => {
    const f = w.__frames;
    if (f.on) {
      if (f.last > 0) f.deltas.push(t - f.last);
      f.last = t;
      if (f.n++ % 6 === 0) {
        f.boxes.push(document.getElementsByClassName('dm-entity').length);
        const svg = document.querySelector('.dm-svg');
        f.elements.push(svg ? svg.getElementsByTagName('*').length : 0);
      }
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  try {
    new PerformanceObserver((list) => {
      const f = w.__frames;
      if (!f.on) return;
      for (const e of list.getEntries() as unknown as {
        duration: number; blockingDuration: number; startTime: number; renderStart: number;
        styleAndLayoutStart: number; scripts: { duration: number }[];
      }[]) {
        const end = e.startTime + e.duration;
        f.loaf.push({
          duration: e.duration,
          blocking: e.blockingDuration,
          script: e.scripts.reduce((s, x) => s + x.duration, 0),
          render: e.renderStart > 0 ? end - e.renderStart : 0,
          styleLayout: e.styleAndLayoutStart > 0 ? end - e.styleAndLayoutStart : 0,
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    // A browser without the entry type: the frame times are still recorded.
  }
}

async function startFrames(page: Page) {
  await page.evaluate(() => {
    const f = (window as unknown as { __frames: Record<string, unknown> }).__frames;
    Object.assign(f, { on: true, last: 0, n: 0, deltas: [], boxes: [], elements: [], inputs: 0, loaf: [] });
  });
}

interface Recorded {
  deltas: number[]; boxes: number[]; elements: number[]; inputs: number;
  loaf: { duration: number; blocking: number; script: number; render: number; styleLayout: number }[];
}

async function stopFrames(page: Page): Promise<Recorded> {
  return page.evaluate(() => {
    const f = (window as unknown as { __frames: Recorded & { on: boolean } }).__frames;
    f.on = false;
    return { deltas: f.deltas, boxes: f.boxes, elements: f.elements, inputs: f.inputs, loaf: f.loaf };
  });
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(name: string, zoom: string, r: Recorded) {
  const d = r.deltas;
  const under = d.filter((x) => x < FRAME_BUDGET).length;
  // A frame counts as on time when it came at the next refresh: the timestamps jitter by a
  // fraction of a millisecond around 16.7 ms, so "under 16.7 ms" alone would call half of the
  // on-time frames late. Late frames: the refreshes missed.
  const onTime = d.filter((x) => x < FRAME_BUDGET * 1.5).length;
  const missed = d.reduce((s, x) => s + Math.max(0, Math.round(x / FRAME_BUDGET) - 1), 0);
  const sum = (k: 'duration' | 'script' | 'render' | 'styleLayout') => Math.round(r.loaf.reduce((s, x) => s + x[k], 0));
  return {
    phase: name,
    zoom,
    frames: d.length,
    span_ms: Math.round(d.reduce((s, x) => s + x, 0)),
    median_ms: quantile(d, 0.5),
    p95_ms: quantile(d, 0.95),
    p99_ms: quantile(d, 0.99),
    max_ms: d.length ? Math.max(...d) : NaN,
    strictly_under_16_7: d.length ? under / d.length : NaN,
    on_time: d.length ? onTime / d.length : NaN,
    refreshes_missed: missed,
    input_events: r.inputs,
    boxes_min: Math.min(...r.boxes),
    boxes_max: Math.max(...r.boxes),
    elements_max: Math.max(...r.elements),
    long_frames: r.loaf.length,
    long_frames_ms: sum('duration'),
    long_frames_script_ms: sum('script'),
    long_frames_render_ms: sum('render'),
    long_frames_style_layout_ms: sum('styleLayout'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The canvas's box on the page. */
async function canvasBox(page: Page) {
  const box = await page.locator('.diagram-canvas').boundingBox();
  expect(box, 'the diagram canvas').not.toBeNull();
  return box!;
}

/**
 * A point of the canvas's background (not a box, not the mini-map) nearest to `want`: a drag
 * there pans; a drag on a box would move the box.
 */
async function backgroundNear(page: Page, want: { x: number; y: number }) {
  // Square rings around `want`, nearest first, so that the search stops early (each probe is a
  // hit test on the page's main thread, inside the measured frames).
  const found = await page.evaluate(({ want }) => {
    const canvas = document.querySelector('.diagram-canvas')!;
    const r = canvas.getBoundingClientRect();
    const free = (x: number, y: number) => {
      if (x < r.left + 10 || x > r.right - 10 || y < r.top + 10 || y > r.bottom - 10) return false;
      const el = document.elementFromPoint(x, y);
      return !!el && canvas.contains(el) && !el.closest('g.dm-entity') && !el.closest('.dm-minimap') && !el.closest('.waiting');
    };
    const step = 12;
    for (let ring = 0; ring * step < Math.max(r.width, r.height); ring++) {
      for (let i = -ring; i <= ring; i++) {
        for (const [dx, dy] of [[i, -ring], [i, ring], [-ring, i], [ring, i]]) {
          const x = want.x + dx * step, y = want.y + dy * step;
          if (free(x, y)) return { x, y };
        }
      }
    }
    return null;
  }, { want });
  expect(found, 'a free spot of background to drag').not.toBeNull();
  return found!;
}

/**
 * Input sent the way a device sends it: at its own rate, without waiting for the page. (Each of
 * Playwright's `mouse.move` waits until the page has handled the event, about a frame, which
 * would cap the rate at the page's frame rate and leave frames without input.) The events go
 * through CDP `Input.dispatchMouseEvent`, in order; `settle` waits until all were handled.
 */
async function inputDevice(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  let pending: Promise<unknown>[] = [];
  const send = (params: Record<string, unknown>) => pending.push(cdp.send('Input.dispatchMouseEvent', params as never));
  return {
    move: (x: number, y: number, buttons: number) => send({ type: 'mouseMoved', x, y, button: buttons ? 'left' : 'none', buttons }),
    down: (x: number, y: number) => send({ type: 'mousePressed', x, y, button: 'left', buttons: 1, clickCount: 1 }),
    up: (x: number, y: number) => send({ type: 'mouseReleased', x, y, button: 'left', buttons: 0, clickCount: 1 }),
    wheel: (x: number, y: number, deltaY: number) => send({ type: 'mouseWheel', x, y, deltaX: 0, deltaY }),
    settle: async () => {
      await Promise.all(pending);
      pending = [];
    },
    close: () => cdp.detach(),
  };
}

/**
 * Pans for about `ms` with drags of `length` px at 1,000 px/s, one mouse move every 8 ms (a
 * common mouse's 125 Hz), in a loop (left, left, up, right, right, down: the view tours a
 * rectangle and comes back).
 */
async function pan(page: Page, ms: number, length = 700) {
  const c = await canvasBox(page);
  const device = await inputDevice(page);
  const directions = [[-1, 0], [-1, 0], [0, -1], [1, 0], [1, 0], [0, 1]];
  const speed = 1.0; // px per ms
  const started = Date.now();
  let i = 0;
  while (Date.now() - started < ms) {
    const [dx, dy] = directions[i++ % directions.length];
    // Start where the drag has room to go: the far side from where it heads.
    const want = {
      x: c.x + c.width / 2 - (dx * length) / 2,
      y: c.y + c.height / 2 - (dy * Math.min(length, c.height - 80)) / 2,
    };
    const from = await backgroundNear(page, want);
    const span = { x: dx * length, y: dy * Math.min(length, c.height - 80) };
    device.move(from.x, from.y, 0);
    device.down(from.x, from.y);
    const t0 = Date.now();
    const duration = Math.hypot(span.x, span.y) / speed;
    let at = { x: from.x, y: from.y };
    for (;;) {
      const t = Math.min(1, (Date.now() - t0) / duration);
      at = { x: from.x + span.x * t, y: from.y + span.y * t };
      device.move(at.x, at.y, 1);
      if (t >= 1) break;
      const next = t0 + Math.ceil((Date.now() - t0 + 1) / 8) * 8;
      await sleep(Math.max(0, next - Date.now()));
    }
    device.up(at.x, at.y);
    await device.settle();
  }
  await device.close();
}

/**
 * Zooms with the wheel at the canvas's centre for `ms`, one event every 16 ms, the scale
 * following one cycle of `k = k0 · 3^sin(2πt)` (from k0 to 3·k0, down to k0/3 and back).
 */
async function wheelZoom(page: Page, ms: number) {
  const c = await canvasBox(page);
  const device = await inputDevice(page);
  const [x, y] = [c.x + c.width / 2, c.y + c.height / 2];
  device.move(x, y, 0);
  const started = Date.now();
  let sent = 0; // ln of the scale factor sent so far
  for (;;) {
    const t = Math.min(1, (Date.now() - started) / ms);
    const target = Math.log(3) * Math.sin(2 * Math.PI * t);
    // The app zooms by exp(-deltaY · 0.0015) per wheel event.
    const deltaY = -(target - sent) / 0.0015;
    if (Math.abs(deltaY) >= 1) {
      device.wheel(x, y, deltaY);
      sent = target;
    }
    if (t >= 1) break;
    await sleep(16);
  }
  await device.settle();
  await device.close();
}

async function zoomText(page: Page) {
  return (await page.getByTestId('diagram-zoom').textContent())?.trim() ?? '?';
}

/** Opens the diagram and waits for every box of the fitted diagram; times from navigation. */
async function openDiagram(page: Page, url: string, reload = false) {
  if (reload) await page.reload({ waitUntil: 'commit' });
  else await page.goto(url, { waitUntil: 'commit' });
  const hydrated = await page.waitForFunction(() => document.body?.dataset.hydrated === 'true' && performance.now(),
    null, { polling: 'raf', timeout: 180_000 });
  const drawn = await page.waitForFunction((n) => document.getElementsByClassName('dm-entity').length >= n && performance.now(),
    ENTITIES, { polling: 'raf', timeout: 180_000 });
  return { hydrated_ms: Math.round(Number(await hydrated.jsonValue())), drawn_ms: Math.round(Number(await drawn.jsonValue())) };
}

interface TraceEvent { name: string; ph: string; ts: number; dur?: number; tdur?: number; tid: number; pid: number; args?: Record<string, any> }

/**
 * The compositor's account of the frames in a trace (`PipelineReporter`, one per frame of the
 * page's compositor): presented with everything, presented without the main thread's update
 * (partial), dropped, or no update wanted (nothing changed).
 */
function compositorFrames(trace: { traceEvents: TraceEvent[] }) {
  const states: Record<string, number> = {};
  for (const e of trace.traceEvents) {
    if (e.name !== 'PipelineReporter' || e.ph !== 'b') continue;
    const state = String(e.args?.frame_reporter?.state ?? '?').replace(/^STATE_/, '').toLowerCase();
    states[state] = (states[state] ?? 0) + 1;
  }
  return states;
}

/**
 * The renderer main thread's time in a full trace, by event (complete events; nested ones are
 * within `RunTask`, the thread's total busy time), raster on the worker threads (software
 * raster: no GPU), and the main thread's work per frame (`ProxyMain::BeginMainFrame`: rAF,
 * style, layout, paint, commit). *Frame CPU*: the main thread's CPU time (thread clock, so time
 * the thread waited for a core does not count) in the tasks that start between one frame's
 * start and the next, input handling included: what a frame costs on a core of its own.
 */
function traceSummary(trace: { traceEvents: TraceEvent[] }) {
  const events = trace.traceEvents;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return {};
  const wanted = ['RunTask', 'EventDispatch', 'FunctionCall', 'FireAnimationFrame', 'UpdateLayoutTree',
    'Layout', 'PrePaint', 'Paint', 'Layerize', 'Commit', 'HitTest', 'Blink.ForcedStyleAndLayout.UpdateTime', 'MajorGC', 'MinorGC'];
  const total: Record<string, number> = {};
  const frames: number[] = [];
  let raster = 0;
  let first = Infinity, last = -Infinity;
  for (const e of events) {
    if (e.ph !== 'X' || e.pid !== main.pid) continue;
    if (e.name === 'RasterTask') raster += (e.dur ?? 0) / 1000;
    if (e.tid !== main.tid) continue;
    first = Math.min(first, e.ts);
    last = Math.max(last, e.ts + (e.dur ?? 0));
    if (e.name === 'ProxyMain::BeginMainFrame') frames.push((e.dur ?? 0) / 1000);
    if (wanted.includes(e.name)) total[e.name] = (total[e.name] ?? 0) + (e.dur ?? 0) / 1000;
  }
  const starts = events.filter((e) => e.ph === 'X' && e.pid === main.pid && e.tid === main.tid && e.name === 'ProxyMain::BeginMainFrame')
    .map((e) => e.ts).sort((a, b) => a - b);
  const cpu = new Array(Math.max(0, starts.length - 1)).fill(0);
  for (const e of events) {
    if (e.ph !== 'X' || e.pid !== main.pid || e.tid !== main.tid || e.name !== 'RunTask') continue;
    // The frame interval this task starts in (binary search over the frame starts).
    let lo = 0, hi = starts.length - 1;
    if (e.ts < starts[0] || e.ts >= starts[hi]) continue;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= e.ts) lo = mid; else hi = mid;
    }
    cpu[lo] += (e.tdur ?? e.dur ?? 0) / 1000;
  }
  const out: Record<string, number> = Object.fromEntries(Object.entries(total).map(([k, v]) => [k, Math.round(v)]));
  out['RasterTask (raster threads)'] = Math.round(raster);
  out['trace span'] = Math.round((last - first) / 1000);
  out['BeginMainFrame count'] = frames.length;
  out['BeginMainFrame median'] = Number(quantile(frames, 0.5).toFixed(1));
  out['BeginMainFrame p95'] = Number(quantile(frames, 0.95).toFixed(1));
  out['BeginMainFrame max'] = Number(Math.max(...frames).toFixed(1));
  out['frame CPU median'] = Number(quantile(cpu, 0.5).toFixed(1));
  out['frame CPU p95'] = Number(quantile(cpu, 0.95).toFixed(1));
  out['frame CPU max'] = Number(Math.max(...cpu).toFixed(1));
  out['frame CPU under 16.7 ms (%)'] = Number(((100 * cpu.filter((x) => x < FRAME_BUDGET).length) / Math.max(1, cpu.length)).toFixed(1));
  return out;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');

test('diagram of a 500-table draft: time to draw, frame times while panning and zooming', async ({ browser }) => {
  const model = generatedModel();
  expect(model.entities.length).toBe(ENTITIES);
  const { api } = await newUser(browser);
  const now = Date.now();
  const domain = { id: randomUUID(), name: 'generated', description: `generated_model(${ENTITIES}, ${ATTRIBUTES}, ${SEED})`, created_at: now, updated_at: now };
  const draft = {
    id: randomUUID(), domain_id: domain.id, number: 1, parent_id: null, created_at: now,
    provenance: { source: 'import', provider: '', model: '', instruction: 'pushed by another device (generated)', prompt_hash: '' },
    model,
  };
  const bytes = JSON.stringify(draft).length;
  await pushMutations(api, [{ kind: 'create_domain', domain }, { kind: 'create_draft', draft }]);
  const url = `/domains/${domain.id}/drafts/1?view=diagram`;

  // Time to draw: cold (a fresh browser) and warm (a reload of it).
  const loads: { cold: { hydrated_ms: number; drawn_ms: number }; warm: { hydrated_ms: number; drawn_ms: number } }[] = [];
  let context: BrowserContext | null = null;
  let page: Page | null = null;
  for (let run = 0; run < LOAD_RUNS; run++) {
    if (context) await context.close();
    context = await freshBrowser(browser, api);
    await context.addInitScript(installRecorder);
    page = await context.newPage();
    const cold = await openDiagram(page, url);
    // Let the positions it keeps for the new boxes sync before the reload.
    await expect(page.getByTestId('sync-status')).toHaveText('all synced', { timeout: 60_000 });
    const warm = await openDiagram(page, url, true);
    loads.push({ cold, warm });
    console.log(`load ${run + 1}: cold hydrated ${cold.hydrated_ms} ms, drawn ${cold.drawn_ms} ms; warm hydrated ${warm.hydrated_ms} ms, drawn ${warm.drawn_ms} ms`);
  }
  page = page!;
  // An experiment, not the product: DM_BENCH_CSS's rules are adopted by the page before the
  // phases (a constructed style sheet, which the page's CSP allows), to try a rendering change
  // without a build.
  if (process.env.DM_BENCH_CSS) {
    await page.evaluate((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    }, process.env.DM_BENCH_CSS);
    console.log(`experiment: DM_BENCH_CSS=${process.env.DM_BENCH_CSS}`);
  }
  const fitZoom = await zoomText(page);

  // The phases, in the last browser. Each runs under a Chromium trace of the frame category
  // only (light: the compositor's own account of each frame, presented or dropped); with
  // DM_BENCH_TRACE=1 the phases run a second time under a full timeline trace, kept per phase in
  // target/bench, whose figures are reported apart (tracing slows the page down).
  const canvas = page.locator('.diagram-canvas');
  const middle = model.entities[Math.floor(ENTITIES / 2)].name;
  const dir = path.join(root, 'target', 'bench');
  fs.mkdirSync(dir, { recursive: true });
  const phases: (ReturnType<typeof summary> & { compositor: Record<string, number>; main_thread_ms?: Record<string, number> })[] = [];
  const measure = async (name: string, act: () => Promise<void>, full: boolean) => {
    await sleep(500);
    const zoom = await zoomText(page!);
    const file = path.join(dir, `diagram-frames-${phases.length}.trace.json`);
    await browser.startTracing(page!, full
      ? { path: file, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'blink', 'cc', 'v8', 'toplevel', 'benchmark'] }
      : { categories: ['disabled-by-default-devtools.timeline.frame'] });
    await startFrames(page!);
    await act();
    const recorded = await stopFrames(page!);
    const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
    const s = {
      ...summary(full ? `${name} (full trace)` : name, zoom, recorded),
      compositor: compositorFrames(trace),
      ...(full ? { main_thread_ms: traceSummary(trace) } : {}),
    };
    phases.push(s);
    console.log(`${s.phase} at ${zoom}: ${JSON.stringify(s)}`);
  };
  // From the fitted diagram, so that the search brings the table in at 80 % (it never zooms out).
  const focusMiddle = async (minusSteps: number, plusSteps: number, expected: string) => {
    await canvas.focus();
    await page!.keyboard.press('0');
    await page!.getByTestId('diagram-search').fill(middle);
    await page!.getByTestId('diagram-search').press('Enter');
    await canvas.focus();
    for (let i = 0; i < minusSteps; i++) await page!.keyboard.press('-');
    for (let i = 0; i < plusSteps; i++) await page!.keyboard.press('+');
    await expect(page!.getByTestId('diagram-zoom')).toHaveText(expected);
  };
  const pass = async (full: boolean) => {
    await canvas.focus();
    await page!.keyboard.press('0');
    await expect(page!.getByTestId('diagram-zoom')).toHaveText(fitZoom);
    await measure('idle (nothing moves)', () => sleep(1000), full);
    // Detail: the middle table brought into view (search: 80 %), then one step in: 100 %.
    await focusMiddle(0, 1, '100 %');
    await measure('pan, detail', () => pan(page!, PHASE_MS), full);
    // Overview: the middle table at 80 %, three steps out (0.8 each): 41 %, names only.
    await focusMiddle(3, 0, '41 %');
    await measure('pan, overview', () => pan(page!, PHASE_MS), full);
    // The whole diagram, with shorter drags: it is about the canvas's size, and 700 px drags
    // would take it off screen.
    await canvas.focus();
    await page!.keyboard.press('0');
    await expect(page!.getByTestId('diagram-zoom')).toHaveText(fitZoom);
    await measure('pan, whole diagram (fit)', () => pan(page!, PHASE_MS, 300), full);
    // Wheel zoom across the detail threshold: from 51 % up to 154 %, down to 17 %, back.
    await focusMiddle(2, 0, '51 %');
    await measure('wheel zoom 17 % to 154 %', () => wheelZoom(page!, PHASE_MS), full);
  };
  await pass(false);
  if (process.env.DM_BENCH_TRACE === '1') await pass(true);
  await context!.close();

  // Other work on the machine takes the same cores (raster runs on the renderer's worker threads).
  const load = os.loadavg().map((x) => x.toFixed(2)).join(', ');
  const med = (xs: number[]) => quantile(xs, 0.5);
  const version = browser.version();
  console.log(`\nChromium ${version}; draft of ${ENTITIES} tables × ${ATTRIBUTES} attributes, ${bytes} bytes of JSON; fit at ${fitZoom}; load average ${load}`);
  console.log('\n| load | hydrated (median) | every box drawn (median) | runs (drawn) |\n|---|---:|---:|---|');
  for (const kind of ['cold', 'warm'] as const) {
    const drawn = loads.map((l) => l[kind].drawn_ms);
    console.log(`| ${kind} | ${med(loads.map((l) => l[kind].hydrated_ms))} ms | ${med(drawn)} ms | ${drawn.join(', ')} ms |`);
  }
  console.log('\n| phase | zoom | input events handled | frames | median | p95 | p99 | max | on time (rAF) | compositor: presented, partial, dropped | on time (compositor) | boxes in DOM | SVG elements (max) | long frames (> 50 ms) |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---|');
  for (const p of phases) {
    const c = p.compositor;
    const [all, partial, dropped] = [c.presented_all ?? 0, c.presented_partial ?? 0, c.dropped ?? 0];
    const wanted = all + partial + dropped;
    console.log(`| ${p.phase} | ${p.zoom} | ${p.input_events} | ${p.frames} | ${fmt(p.median_ms)} | ${fmt(p.p95_ms)} | ${fmt(p.p99_ms)} | ${fmt(p.max_ms)} | ${pct(p.on_time)} | ${all}, ${partial}, ${dropped} | ${wanted ? pct(all / wanted) : '–'} | ${p.boxes_min}–${p.boxes_max} | ${p.elements_max} | ${p.long_frames} (${p.long_frames_ms} ms: script ${p.long_frames_script_ms}, render ${p.long_frames_render_ms}) |`);
  }
  for (const p of phases) {
    if (p.main_thread_ms) console.log(`${p.phase}: renderer main thread, ms: ${JSON.stringify(p.main_thread_ms)}`);
  }
  fs.writeFileSync(path.join(dir, 'diagram-frames.json'), JSON.stringify({
    date: new Date().toISOString(), chromium: version, entities: ENTITIES, attributes: ATTRIBUTES, seed: SEED,
    draft_bytes: bytes, fit_zoom: fitZoom, load_average: load, css: process.env.DM_BENCH_CSS ?? null, loads, phases,
  }, null, 2));
});
