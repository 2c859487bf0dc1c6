// The room's WebSocket: connects, reconnects with backoff, resumes with
// ?since=<last seq seen> so nothing sent meanwhile is missed, and matches
// replies to requests by `ref`.
import { gettext } from "../i18n.js";

// Close codes after which reconnecting cannot help (docs/protocol.md).
export const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404, 4410]);

const BACKOFF_SECONDS = [0.5, 1, 2, 3, 5, 8];
const REQUEST_TIMEOUT_MS = 15000;

export class RoomSocket {
  /**
   * @param {number|string} sessionId
   * @param {{onFrame: Function, onStatus: Function, since: () => number|null}} hooks
   *   onStatus(status, detail): "connecting" | "open" | "reconnecting" | "closed" (detail: close code)
   *   since(): the seq to resume after, or null for a first connection
   */
  constructor(sessionId, hooks) {
    this.sessionId = sessionId;
    this.hooks = hooks;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    this.pending = new Map();
    this.counter = 0;
    this.prefix = Math.random().toString(36).slice(2, 8);
    this.resumed = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = this.hooks.since();
    const query = since === null || since === undefined ? "" : `?since=${encodeURIComponent(since)}`;
    return `${scheme}://${location.host}/ws/sessions/${this.sessionId}/${query}`;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const url = this.url();
    this.resumed = url.includes("?since=");
    this.hooks.onStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => this.closed(ws, event.code));
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "session.state") {
      this.attempt = 0; // a state is the sign of a healthy connection
      this.hooks.onStatus("open");
    }
    if ((frame.type === "ack" || frame.type === "error") && frame.ref && this.pending.has(frame.ref)) {
      const { resolve, reject, timer } = this.pending.get(frame.ref);
      clearTimeout(timer);
      this.pending.delete(frame.ref);
      if (frame.type === "ack") resolve(frame);
      else reject(frame);
      return;
    }
    this.hooks.onFrame(frame, { resumed: this.resumed });
    if (frame.type === "session.state") this.resumed = false; // later states on this connection are fresh ones
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      // The frame went out; whether the server acted on it is unknown (maybe_sent).
      reject({ type: "error", code: "offline", message: gettext("The connection dropped before the server answered."), maybe_sent: true });
    }
    this.pending.clear();
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.stopped = true;
      this.hooks.onStatus("closed", code);
      return;
    }
    const base = BACKOFF_SECONDS[Math.min(this.attempt, BACKOFF_SECONDS.length - 1)];
    this.attempt += 1;
    this.hooks.onStatus("reconnecting", code);
    const jitter = 0.75 + Math.random() * 0.5;
    this.timer = setTimeout(() => this.connect(), base * jitter * 1000);
  }

  /** Try again now (the network came back, or the page became visible). */
  nudge() {
    if (!this.stopped && this.ws === null) {
      this.attempt = Math.min(this.attempt, 1);
      this.connect();
    }
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Send a frame with a ref; resolves with the `ack`, rejects with the `error`, or with
   * an `offline` / `timeout` error of our own. Those carry `maybe_sent: true` when the
   * frame had gone out: the server may have acted on it, only its answer was lost.
   */
  request(type, fields = {}) {
    if (!this.open) {
      return Promise.reject({ type: "error", code: "offline", message: gettext("Not connected. Reconnecting…") });
    }
    this.counter += 1;
    const ref = `${this.prefix}-${this.counter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject({ type: "error", code: "timeout", message: gettext("No answer from the server. Please try again."), maybe_sent: true });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...fields, type, ref }));
    });
  }
}
