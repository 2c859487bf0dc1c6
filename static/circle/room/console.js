// The facilitator console: session, floor and queue, people and messages here;
// waiting room and invitations (console-guests.js), topic and agenda
// (console-topic.js), alerts and participation (console-insight.js), goals, the individual session's
// motivational-interviewing panel and the time left (console-record.js). Every control sends one
// frame the server handles (rooms/frames.py CLIENT_FRAMES); controls for frames
// this server does not handle are not on the page at all (room_context.py).

import { gettext, interpolate } from "../i18n.js";
import { mountGuests } from "./console-guests.js";
import { mountInsight } from "./console-insight.js";
import { mountRecord, mountTimeLeft } from "./console-record.js";
import { mountTopic } from "./console-topic.js";
import { announce, byId, clock, h, setText, show, srOnly } from "./dom.js";

export function mountConsole(store, socket, frames) {
  const { state } = store;
  const has = (type) => frames.has(type);
  const status = byId("console-status");

  /** Send one frame; report a refusal in the console's status line. Resolves with the ack or null. */
  async function act(type, fields = {}, done = null) {
    try {
      const ack = await socket.request(type, fields);
      if (done) say(done);
      return ack;
    } catch (error) {
      say(error.message || gettext("That didn't work. Please try again."));
      return null;
    }
  }

  function say(text) {
    setText(status, text);
    announce(text);
  }

  // ------------------------------------------------------------------ confirmations

  const dialog = byId("confirm-dialog");
  function confirm({ title, text, action, reason = false }) {
    setText(byId("confirm-title"), title);
    setText(byId("confirm-text"), text);
    setText(byId("confirm-ok"), action);
    const reasonField = byId("confirm-reason");
    reasonField.value = "";
    show(byId("confirm-reason-row"), reason);
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => resolve(dialog.returnValue === "ok" ? { reason: reasonField.value.trim() || undefined } : null),
        { once: true },
      );
    });
  }

  // ------------------------------------------------------------------ session: start, mode, round, slow mode, end

  const start = byId("start-session");
  start?.addEventListener("click", () => act("session.start", {}, gettext("The session has started.")));

  for (const button of document.querySelectorAll("[data-mode]")) {
    button.addEventListener("click", () => act("mode.set", { mode: button.dataset.mode }));
  }
  const roundSeconds = byId("round-seconds");
  byId("round-start")?.addEventListener("click", () =>
    act("mode.set", { mode: "round", seconds: boundedSeconds(roundSeconds, 10, 900, 120) }),
  );
  byId("round-next")?.addEventListener("click", () => act("round.next"));
  byId("round-end")?.addEventListener("click", () => act("floor.revoke", {}, gettext("The round has ended.")));

  const slowmode = byId("slowmode");
  slowmode?.addEventListener("change", () => {
    const seconds = Number(slowmode.value);
    act("slowmode.set", { seconds }, seconds ? interpolate(gettext("Slow mode is on: one message every %(seconds)s seconds."), { seconds }) : gettext("Slow mode is off."));
  });

  byId("end-session")?.addEventListener("click", async () => {
    const ok = await confirm({
      title: gettext("End the session for everyone?"),
      text: gettext("Everyone will be disconnected and the room will close. This can't be undone."),
      action: gettext("End the session"),
    });
    if (ok) act("session.end");
  });

  function renderSession() {
    const { session } = state;
    if (!session) return;
    const live = session.status === "live";
    show(start, session.status === "scheduled");
    for (const button of document.querySelectorAll("[data-mode]")) {
      button.setAttribute("aria-pressed", String(session.mode === button.dataset.mode));
      button.disabled = session.status === "ended";
    }
    const inRound = session.mode === "round";
    show(byId("round-start"), !inRound);
    byId("round-start") && (byId("round-start").disabled = !live);
    show(byId("round-next"), inRound);
    show(byId("round-end"), inRound);
    if (slowmode && document.activeElement !== slowmode) slowmode.value = String(session.slowmode_seconds ?? 0);
    const end = byId("end-session");
    if (end) end.disabled = session.status === "ended";
  }

  // ------------------------------------------------------------------ floor and queue

  const floorSeconds = byId("floor-seconds");
  const grant = (id) => {
    const seconds = boundedSeconds(floorSeconds, 1, 900, 180);
    return act("floor.grant", { participant_id: id, seconds }, interpolate(gettext("%(name)s has the floor for %(time)s."), { name: store.name(id), time: clock(seconds) }));
  };
  byId("give-next")?.addEventListener("click", () => {
    if (state.queue.length) grant(state.queue[0]);
  });
  byId("take-back")?.addEventListener("click", () => act("floor.revoke", {}, gettext("You took the floor back.")));
  byId("clear-hands")?.addEventListener("click", () => act("hand.clear", {}, gettext("All hands are lowered.")));

  function renderFloorControls() {
    const next = byId("give-next");
    if (next) {
      next.disabled = state.queue.length === 0 || state.session?.status === "ended";
      setText(next, state.queue.length ? interpolate(gettext("Give the floor to %(name)s"), { name: store.name(state.queue[0]) }) : gettext("Give the floor to the next person"));
    }
    show(byId("take-back"), store.holder() !== null && state.session?.mode !== "round");
    const clear = byId("clear-hands");
    if (clear) clear.disabled = state.queue.length === 0;
  }

  function queueActions(container, id) {
    let button = container.querySelector("button");
    if (!button) {
      button = h("button", { type: "button", class: "small", onclick: () => grant(Number(container.closest("li").dataset.key)) });
      container.append(button);
    }
    button.replaceChildren(gettext("Give floor"), srOnly(` ${interpolate(gettext("to %(name)s"), { name: store.name(id) })}`));
  }

  // ------------------------------------------------------------------ people: floor, mute, remove, back to lobby

  function personActions(container, person) {
    if (person.role === "facilitator") {
      container.replaceChildren();
      return;
    }
    if (!container.childElementCount) {
      const id = () => Number(container.closest("li").dataset.key);
      container.append(
        h("button", { type: "button", class: "small", dataset: { act: "floor" }, onclick: () => grant(id()) }),
        h("button", {
          type: "button",
          class: "small secondary",
          dataset: { act: "mute" },
          onclick: () => {
            const target = store.person(id());
            if (target?.muted) act("participant.unmute", { participant_id: id() }, interpolate(gettext("%(name)s can write again."), { name: target.display_name }));
            else act("participant.mute", { participant_id: id() }, interpolate(gettext("%(name)s is muted."), { name: store.name(id()) }));
          },
        }),
        has("lobby.return") && person.role === "guest"
          ? h("button", {
              type: "button",
              class: "small secondary",
              dataset: { act: "lobby" },
              onclick: () => act("lobby.return", { participant_id: id() }, interpolate(gettext("%(name)s is back in the waiting room."), { name: store.name(id()) })),
            })
          : "",
        h("button", {
          type: "button",
          class: "small danger-quiet",
          dataset: { act: "remove" },
          onclick: async () => {
            const name = store.name(id());
            const ok = await confirm({
              title: interpolate(gettext("Remove %(name)s from the session?"), { name }),
              text: interpolate(gettext("%(name)s will leave the room and can't come back to this session."), { name }),
              action: interpolate(gettext("Remove %(name)s"), { name }),
              reason: true,
            });
            if (ok) act("participant.remove", { participant_id: id(), reason: ok.reason }, interpolate(gettext("%(name)s was removed."), { name }));
          },
        }),
      );
    }
    const name = person.display_name;
    const label = (selector, text) => {
      const button = container.querySelector(selector);
      if (button) button.replaceChildren(text, srOnly(` ${name}`));
    };
    label('[data-act="floor"]', gettext("Give floor"));
    label('[data-act="mute"]', person.muted ? gettext("Unmute") : gettext("Mute"));
    label('[data-act="lobby"]', gettext("To waiting room"));
    label('[data-act="remove"]', gettext("Remove"));
    const floorButton = container.querySelector('[data-act="floor"]');
    floorButton.disabled = person.muted || store.holder() === person.participant_id || state.session?.status === "ended";
  }

  // ------------------------------------------------------------------ messages: remove

  function messageActions(item, message) {
    item.querySelector(".msg-head").append(
      h(
        "button",
        {
          type: "button",
          class: "small link-button msg-remove",
          onclick: () => act("message.remove", { message_id: message.message_id }, gettext("The message was removed.")),
        },
        gettext("Remove"),
        srOnly(` ${interpolate(gettext("message from %(name)s"), { name: message.display_name })}`),
      ),
    );
  }

  // ------------------------------------------------------------------ composer: to everyone or privately

  const composerTo = byId("composer-to");
  function renderComposerTo() {
    if (!composerTo) return;
    const people = Array.from(state.people.values()).filter((p) => p.role !== "facilitator" && (p.role !== "guest" || p.admitted));
    const wanted = ["", ...people.map((p) => String(p.participant_id))];
    const current = Array.from(composerTo.options, (o) => o.value);
    if (wanted.join() !== current.join()) {
      const chosen = composerTo.value;
      composerTo.replaceChildren(
        h("option", { value: "", text: gettext("Everyone") }),
        ...people.map((p) => h("option", { value: String(p.participant_id), text: interpolate(gettext("Only %(name)s"), { name: p.display_name }) })),
      );
      composerTo.value = wanted.includes(chosen) ? chosen : "";
    }
  }

  // ------------------------------------------------------------------ everything

  const context = { store, act, say, confirm, has };
  const renderGuests = mountGuests(context);
  const renderTopic = mountTopic(context);
  const renderInsight = mountInsight(context);
  const renderRecord = mountRecord(context);
  mountTimeLeft(store);

  function render() {
    renderSession();
    renderFloorControls();
    renderComposerTo();
    renderGuests();
    renderTopic();
    renderInsight();
    renderRecord();
  }
  store.subscribe((what, frame) => {
    if (what === "frame" && frame.type === "alert") {
      announce(interpolate(gettext("Alert: a message from %(name)s may need your attention."), { name: store.name(frame.participant_id) }));
    }
    if (what === "frame" && frame.type === "lobby.waiting") announce(interpolate(gettext("%(name)s is in the waiting room."), { name: frame.participant.display_name }));
    if (what === "frame" || what === "connection" || what.startsWith("messages")) render();
  });

  return { personActions, queueActions, messageActions, render };
}

function boundedSeconds(input, min, max, fallback) {
  const value = Math.round(Number(input?.value));
  if (!Number.isFinite(value) || value < min) return fallback;
  return Math.min(value, max);
}
