// The room's WebSocket: connects, reconnects with backoff, resumes with
// ?since=<last seq seen> so nothing sent meanwhile is missed, matches
// replies to requests by `ref`, and sends a message whose answer was lost
// again after the reconnect, with the same `txn_id` (stored at most once).
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
    // Messages sent with sendMessage and not answered yet: txn_id -> {fields, resolve, reject, inFlight, resent}.
    this.unacknowledged = new Map();
    this.fresh = false; // no session.state on this connection yet
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
    this.fresh = true;
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
    if (frame.type === "session.state") {
      this.resumed = false; // later states on this connection are fresh ones
      if (this.fresh) {
        this.fresh = false;
        this.resendUnacknowledged(); // after the catch-up: the page already shows what it holds
      }
    }
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
      for (const [txnId, entry] of this.unacknowledged) {
        entry.reject({ type: "error", code: "offline", message: gettext("The connection dropped before the server answered."), maybe_sent: true, txn_id: txnId });
      }
      this.unacknowledged.clear();
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

  /**
   * chat.send with the client's own id for the message (`txn_id`: a new one, or `txnId`
   * to send a text again whose outcome was unknown). If the connection drops before the
   * answer, the message is sent again with the same txn_id once the socket is back (after
   * its session.state); the server stores it at most once and answers a resend with the
   * first one's ack, resolved here with `resent: true`. Rejects with the server's error,
   * with `offline` if it could not be sent at all, or with `timeout` (maybe_sent); both of
   * the last carry the txn_id to send it again with.
   */
  sendMessage(fields, txnId = newTxnId()) {
    return new Promise((resolve, reject) => {
      const entry = { fields: { ...fields, txn_id: txnId }, resolve, reject, inFlight: false, resent: false };
      this.unacknowledged.set(txnId, entry);
      this.trySend(txnId, entry);
    });
  }

  trySend(txnId, entry) {
    const retry = entry.resent;
    entry.inFlight = true;
    this.request("chat.send", entry.fields).then(
      (ack) => {
        this.unacknowledged.delete(txnId);
        entry.resolve({ ...ack, resent: entry.resent });
      },
      (error) => {
        entry.inFlight = false;
        if (error.code === "offline" && (error.maybe_sent || retry) && !this.stopped) {
          entry.resent = true; // sent again once the socket is back (resendUnacknowledged)
          return;
        }
        this.unacknowledged.delete(txnId);
        entry.reject({ ...error, txn_id: txnId });
      },
    );
  }

  resendUnacknowledged() {
    for (const [txnId, entry] of this.unacknowledged) {
      if (!entry.inFlight) this.trySend(txnId, entry);
    }
  }
}

/** A client-unique id for a message: 128 random bits (crypto.randomUUID needs a secure context). */
export function newTxnId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
