// The room page's entry point: one store, one socket, the views that draw
// from the store, and (for facilitators) the console.

import { byId } from "./dom.js";
import { mountMessages } from "./messages.js";
import { mountPeople } from "./people.js";
import { RoomSocket } from "./socket.js";
import { mountStage } from "./stage.js";
import { createStore } from "./store.js";

const ACTIVITY_PING_MS = 60_000;

async function main() {
  const root = byId("room");
  if (!root) return;
  const role = root.dataset.role;
  const frames = new Set((root.dataset.frames || "").split(" ").filter(Boolean));
  const store = createStore(role);
  const socket = new RoomSocket(root.dataset.sessionId, {
    since: () => store.resumeAfter(),
    onStatus: (status, code) => store.setConnection(status, status === "closed" ? code : null),
    onFrame: (frame, meta) => store.apply(frame, meta),
  });

  let console_ = null;
  if (role === "facilitator") {
    const { mountConsole } = await import("./console.js");
    console_ = mountConsole(store, socket, frames);
  }
  mountMessages(store, { messageActions: console_?.messageActions });
  mountPeople(store, { personActions: console_?.personActions, queueActions: console_?.queueActions });
  mountStage(store, socket);
  if (role === "patient" && byId("my-goals")) {
    const { mountMyGoals } = await import("./my-goals.js");
    mountMyGoals(store, socket);
  }

  socket.connect();
  window.addEventListener("online", () => socket.nudge());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") socket.nudge();
  });

  // Someone reading along is not idle: while they use the page, tell the
  // server now and then (the idle sign-out counts room frames as activity).
  if (frames.has("ping")) {
    let lastPing = Date.now();
    const activity = () => {
      if (Date.now() - lastPing > ACTIVITY_PING_MS && socket.open) {
        lastPing = Date.now();
        socket.request("ping").catch(() => {});
      }
    };
    for (const type of ["keydown", "pointerdown", "scroll", "focusin"]) {
      document.addEventListener(type, activity, { passive: true, capture: true });
    }
  }
}

main();
