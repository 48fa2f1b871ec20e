// live.js: live events, Server-Sent Events read with fetch() (EventSource
// cannot send an Authorization header), resumed with Last-Event-ID after a
// drop. One stream per view: the router stops it when the view changes.

import { state } from "./api.js";

export class LiveStream {
  constructor(query, onEvent, statusEl) {
    this.query = query;
    this.onEvent = onEvent;
    this.statusEl = statusEl;
    this.lastId = null;
    this.seen = new Set();
    this.stopped = false;
    this.controller = null;
    this.run();
  }

  setStatus(on, text) {
    if (!this.statusEl) return;
    this.statusEl.className = "live " + (on ? "on" : "off");
    this.statusEl.textContent = text;
    this.statusEl.dataset.live = on ? "on" : "off";
  }

  async run() {
    let delay = 1000;
    while (!this.stopped) {
      try {
        this.controller = new AbortController();
        const headers = { Accept: "text/event-stream" };
        if (state.token) headers.Authorization = "Bearer " + state.token; // else the session cookie
        if (this.lastId) headers["Last-Event-ID"] = this.lastId;
        const res = await fetch("/api/v1/events" + this.query,
                                { headers, signal: this.controller.signal });
        if (!res.ok) throw new Error("HTTP " + res.status);
        this.setStatus(true, "live");
        delay = 1000;
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        while (!this.stopped) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            this.dispatch(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      } catch (e) {
        if (this.stopped) return;
      }
      if (this.stopped) return;
      this.setStatus(false, "reconnecting…");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  dispatch(block) {
    let id = null, type = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") type = value;
      else if (field === "data") data += value;
    }
    if (!data) return;
    if (id) {
      if (this.seen.has(id)) return;
      this.seen.add(id);
      this.lastId = id;
    }
    try {
      this.onEvent(type, JSON.parse(data), id);
    } catch (e) {
      console.error(e);
    }
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }
}

// Open the view's stream (the router closes it on the next view)
export function live(query, onEvent, statusEl) {
  stopLive();
  state.live = new LiveStream(query, onEvent, statusEl);
  return state.live;
}

export function stopLive() {
  if (state.live) state.live.stop();
  state.live = null;
}
