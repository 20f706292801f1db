// The service worker: Data Modeller opens and works without a network.
//
// The server serves this file at /sw.js with two constants written above it: BUILD, the id of
// the site build (a new build is a new worker), and PRECACHE, the build's hashed bundles and
// the app's icons and manifest. Rules:
// - /pkg/ (hashed, immutable): from the cache first; the install step fills it.
// - pages (navigations): from the network first, and a copy is kept per address; without a
//   network, the kept copy of that address, else the kept start page ("/"), which the app
//   hydrates at its own address and then routes to the one asked for (see app::Scripts).
// - /api/, share pages (/s/, /e/), /sw.js and everything else that is not a page or a bundle:
//   never cached, always the network.
// A new worker waits until the user agrees to reload (the app's update banner posts
// "skip-waiting"); the pages it keeps are removed when the user signs out ("clear-pages").

const ASSETS = `dm-assets-${BUILD}`;
const PAGES = "dm-pages";
const START = "/";

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(ASSETS);
      await cache.addAll(PRECACHE);
      // The start page, with who is signed in, so that a cold start offline has a page to
      // hydrate even if the user never went back to it.
      try {
        const start = await fetch(START, { credentials: "same-origin" });
        if (isPage(start)) await (await caches.open(PAGES)).put(START, start);
      } catch {
        // Offline while installing: the next visit to "/" keeps it.
      }
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("dm-assets-") && name !== ASSETS) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
  if (event.data === "clear-pages") event.waitUntil(caches.delete(PAGES));
});

function isPage(response) {
  return (
    response.ok &&
    response.type === "basic" &&
    (response.headers.get("content-type") || "").startsWith("text/html")
  );
}

function neverCached(url) {
  const p = url.pathname;
  return (
    p.startsWith("/api/") ||
    p.startsWith("/s/") ||
    p.startsWith("/e/") ||
    p === "/sw.js" ||
    p === "/metrics" ||
    p === "/healthz" ||
    p === "/readyz"
  );
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || neverCached(url)) return;
  if (url.pathname.startsWith("/pkg/")) {
    event.respondWith(bundle(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else if (PRECACHE.includes(url.pathname)) {
    event.respondWith(bundle(request));
  }
});

async function bundle(request) {
  const cache = await caches.open(ASSETS);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(request);
  // A hashed file never changes under its name: keep what the build did not list.
  if (response.ok && new URL(request.url).pathname.startsWith("/pkg/")) {
    await cache.put(request, response.clone());
  }
  return response;
}

async function page(request, url) {
  const key = url.pathname + url.search;
  try {
    const response = await fetch(request);
    if (isPage(response)) {
      const cache = await caches.open(PAGES);
      await cache.put(key, response.clone());
    }
    return response;
  } catch (offline) {
    const cache = await caches.open(PAGES);
    const kept =
      (await cache.match(key)) ||
      (await cache.match(url.pathname, { ignoreSearch: true })) ||
      (await cache.match(START));
    if (kept) return kept;
    throw offline;
  }
}
