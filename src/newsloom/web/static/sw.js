// newsloom service worker: the app shell from cache, pages from the network, and the pages read recently kept
// for offline reading (stories and articles, the newest RECENT_LIMIT of them).
"use strict";
const SHELL_CACHE = "newsloom-shell-v1";
const PAGES_CACHE = "newsloom-pages-v1";
const RECENT_LIMIT = 60;
const SHELL = ["/static/style.css", "/static/app.js", "/static/theme.js", "/static/htmx.min.js", "/static/icon.svg", "/offline"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL_CACHE && k !== PAGES_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

const keepable = (url) => /^\/(story|article)\//.test(url.pathname) || url.pathname === "/" || url.pathname === "/notifications";

async function trim(cache) {
  const keys = await cache.keys();
  for (let i = 0; i < keys.length - RECENT_LIMIT; i++) await cache.delete(keys[i]);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request)
        .then(async (response) => {
          if (response.ok && keepable(url)) {
            const cache = await caches.open(PAGES_CACHE);
            await cache.delete(request);  // re-insert so the newest read is last
            await cache.put(request, response.clone());
            await trim(cache);
          }
          return response;
        })
        .catch(async () => (await caches.match(request)) || (await caches.match("/offline")))
    );
  }
});
