// What everyone sees around the conversation: the room's status, the
// reconnecting banner, the pinned topic, whose turn it is (with a countdown),
// the composer (disabled with the reason said plainly), the hand and gettext("I'm done").

import { gettext, interpolate, promptText } from "../i18n.js";
import { announce, byId, clock, h, setText, show } from "./dom.js";

const MODE_LABEL = {
  open: gettext("Open conversation"),
  moderated: gettext("Hands up"),
  round: gettext("Check-in round"),
};

const CATEGORY_LABEL = {
  stress: gettext("Stress"),
  triggers: gettext("Triggers"),
  medication: gettext("Medication"),
  mental_health: gettext("Mental health"),
  coping: gettext("Coping"),
  family: gettext("Family and relationships"),
  goals: gettext("Goals"),
  withdrawal: gettext("Withdrawal and cravings"),
  motivation: gettext("Motivation"),
};

const CLOSED = {
  4401: [gettext("You've been signed out"), gettext("Please sign in again to come back to the session."), "signin"],
  4403: [gettext("You're no longer in this session"), gettext("If you think this is a mistake, please speak to your facilitator."), "home"],
  4404: [gettext("This session doesn't exist"), gettext("Please check the link, or go back to your sessions."), "home"],
  4410: [gettext("This session has ended"), gettext("Thank you for being here today."), "home"],
};

/** What the composer allows right now, and why not (docs/protocol.md, Rules). */
export function composerState(store, privateLine) {
  const { state } = store;
  const { me, session } = state;
  if (!me || !session) return { ok: false, reason: gettext("Connecting…") };
  if (state.connection === "closed") return { ok: false, reason: "" };
  if (state.connection !== "open") return { ok: false, reason: gettext("Reconnecting… you can write again in a moment.") };
  if (session.status === "ended") return { ok: false, reason: gettext("This session has ended.") };
  if (me.role === "guest" && !me.admitted) return { ok: false, reason: gettext("You're in the waiting room.") };
  if (me.role === "facilitator") return { ok: true, reason: "" };
  if (session.status !== "live") return { ok: false, reason: gettext("The session hasn't started yet. You can write once the facilitator starts it.") };
  if (me.muted) return { ok: false, reason: gettext("The facilitator has muted you for now. You can still read along.") };
  const slow = session.slowmode_seconds
    ? ` ${interpolate(gettext("Slow mode: one message every %(seconds)s seconds."), { seconds: session.slowmode_seconds })}`
    : "";
  if (privateLine) return { ok: true, reason: `${gettext("Only the facilitator will see this message.")}${slow}` };
  const holder = store.holder();
  if (holder === me.participant_id) return { ok: true, reason: `${gettext("You have the floor.")}${slow}` };
  if (me.role === "guest") return { ok: false, reason: gettext("You can write when the facilitator gives you a turn.") };
  if (session.mode === "open") return { ok: true, reason: slow.trim() };
  if (session.mode === "round") {
    return { ok: false, reason: holder ? interpolate(gettext("It's %(name)s's turn in the round. Yours will come."), { name: store.name(holder) }) : gettext("A round is starting.") };
  }
  return {
    ok: false,
    reason: me.hand_raised
      ? gettext("Your hand is raised. The facilitator will give you the floor.")
      : gettext("Raise your hand and the facilitator will give you the floor."),
  };
}

/** "Sam's turn, 2:40 left, next: Alex" and friends. */
export function floorLine(store) {
  const { state } = store;
  const { session } = state;
  if (!session) return "";
  if (session.status === "ended") return gettext("The session has ended.");
  const holder = store.holder();
  const left = store.secondsLeft();
  const time = left === null ? "" : interpolate(gettext(", %(time)s left"), { time: clock(left) });
  if (session.mode === "round" && state.round) {
    if (holder === null) return gettext("The round is moving on…");
    const next = state.round.next ? interpolate(gettext("next: %(name)s"), { name: store.name(state.round.next) }) : gettext("last turn");
    if (holder === state.me?.participant_id) return interpolate(gettext("Your turn%(time)s, %(next)s"), { time, next });
    return interpolate(gettext("%(name)s's turn%(time)s, %(next)s"), { name: store.name(holder), time, next });
  }
  if (holder !== null) {
    return holder === state.me?.participant_id
      ? interpolate(gettext("You have the floor%(time)s"), { time })
      : interpolate(gettext("%(name)s has the floor%(time)s"), { name: store.name(holder), time });
  }
  if (session.status !== "live") return gettext("The session hasn't started yet.");
  if (session.mode === "open") return gettext("Open conversation: everyone can write.");
  return state.me?.role === "facilitator" ? gettext("No one has the floor.") : gettext("No one has the floor. Raise your hand to ask for a turn.");
}

export function mountStage(store, socket) {
  const { state } = store;
  const el = {
    root: byId("room"),
    status: byId("room-status"),
    banner: byId("banner"),
    body: byId("room-body"),
    lobby: byId("lobby-screen"),
    lobbyNotes: byId("lobby-notes"),
    closed: byId("closed-screen"),
    closedHeading: byId("closed-heading"),
    closedText: byId("closed-text"),
    closedLink: byId("closed-link"),
    prompt: byId("prompt"),
    promptText: byId("prompt-text"),
    promptCategory: byId("prompt-category"),
    floor: byId("floor"),
    form: byId("composer"),
    text: byId("composer-text"),
    send: byId("send"),
    reason: byId("composer-reason"),
    privateLine: byId("composer-private"),
    to: byId("composer-to"),
    hand: byId("hand"),
    handNote: byId("hand-note"),
    yield: byId("yield"),
  };
  let lastHolder;
  let closedShown = false;
  let notesShown = 0;
  let lastStatus;
  let sending = false;
  let composerNote = ""; // an error from the last send, shown until something changes
  // A send whose answer was lost ({text, after}): the server may have stored it. If it
  // did, the message reaches this page (live, or in the ?since= catch-up after the
  // reconnect) and the composer lets it go, so that nobody sends it twice.
  let unanswered = null;
  // The txn_id of a message whose outcome stayed unknown ({text, txnId}): sent again as it was, it
  // keeps that id, so the server stores it at most once (RoomSocket.sendMessage).
  let retry = null;

  function statusLine() {
    const { session } = state;
    if (!session) return gettext("Connecting…");
    const status = { scheduled: gettext("Not started yet"), live: gettext("Live"), ended: gettext("Ended") }[session.status];
    const parts = [status];
    if (session.status === "live") parts.push(MODE_LABEL[session.mode]);
    if (session.status === "live" && session.slowmode_seconds) parts.push(interpolate(gettext("slow mode %(seconds)s s"), { seconds: session.slowmode_seconds }));
    return parts.join(" · ");
  }

  function renderScreens() {
    const closed = state.connection === "closed";
    const waiting = !closed && state.me?.role === "guest" && !state.me.admitted;
    const over = state.session?.status === "ended" || state.session?.status === "cancelled";
    const code = closed ? state.closeCode : over ? 4410 : null;
    const inside = Boolean(state.me) && (state.me.role !== "guest" || state.me.admitted);
    show(el.lobby, waiting);
    // After the end the conversation stays readable; after a removal or a sign-out it goes.
    show(el.body, inside && !waiting && (code === null || code === 4410));
    show(el.closed, code !== null);
    el.root.classList.toggle("is-over", code !== null);
    if (code !== null) {
      const guest = state.me?.role === "guest" || el.root.dataset.role === "guest";
      let [heading, text, link] = CLOSED[code] ?? [gettext("You've left the session"), "", "home"];
      // A cancelled session refuses the socket before any session.state: the page's own status says why.
      if (code === 4410 && (state.session?.status ?? el.root.dataset.status) === "cancelled") {
        heading = gettext("This session was cancelled");
        text = gettext("It will not take place. Your next sessions are on your sessions page.");
      }
      if (code === 4403 && guest && !state.me?.admitted) {
        heading = gettext("The facilitator couldn't let you in this time");
        text = gettext("Thank you for coming. Please speak to the person who invited you.");
      }
      setText(el.closedHeading, heading);
      setText(el.closedText, text);
      if (el.closedLink) {
        const target = link === "signin" ? `/accounts/login/?next=${encodeURIComponent(location.pathname)}` : "/";
        el.closedLink.href = target;
        setText(el.closedLink, link === "signin" ? gettext("Sign in") : gettext("Back to your sessions"));
        show(el.closedLink.parentElement, !guest); // a guest has no sessions page and no sign-in
      }
      if (!closedShown) {
        closedShown = true;
        el.closedHeading.focus(); // say it, and bring it into view
      }
    }
    // Notes to the waiting room: append the new ones only (the list is a live region).
    for (const note of state.lobbyNotes) {
      if (!el.lobbyNotes || note.n <= notesShown) continue;
      el.lobbyNotes.append(h("li", { text: note.text }));
      notesShown = note.n;
    }
    while (el.lobbyNotes && el.lobbyNotes.childElementCount > 20) el.lobbyNotes.firstElementChild.remove();
  }

  function renderBanner() {
    const reconnecting = state.connection === "reconnecting";
    show(el.banner, reconnecting);
    if (reconnecting) setText(el.banner, gettext("Connection lost. Reconnecting… you won't miss any messages."));
  }

  function renderPrompt() {
    show(el.prompt, Boolean(state.prompt));
    if (state.prompt) {
      setText(el.promptText, promptText(state.prompt));
      setText(el.promptCategory, CATEGORY_LABEL[state.prompt.category] ?? state.prompt.category);
    }
  }

  function renderFloor() {
    setText(el.floor, floorLine(store));
    const holder = store.holder();
    if (lastHolder !== undefined && holder !== lastHolder && state.session?.status === "live") {
      if (holder === state.me?.participant_id) announce(gettext("You have the floor. You can write now."));
      else if (holder !== null) announce(interpolate(gettext("%(name)s has the floor."), { name: store.name(holder) }));
    }
    lastHolder = holder;
  }

  function renderComposer() {
    const { ok, reason } = composerState(store, el.privateLine?.checked);
    el.text.disabled = !ok;
    el.send.disabled = !ok || sending;
    setText(el.reason, composerNote || reason);
    if (el.privateLine) el.privateLine.disabled = !state.me || state.session?.status !== "live" || state.me.muted;
  }

  function renderHand() {
    if (!el.hand || !state.me) return;
    const raised = Boolean(state.me.hand_raised);
    const holds = store.holder() === state.me.participant_id;
    el.hand.setAttribute("aria-pressed", String(raised));
    setText(el.hand, raised ? gettext("Lower my hand") : gettext("Raise my hand"));
    el.hand.disabled = state.connection !== "open" || state.session?.status === "ended" || state.me.muted || (!raised && holds);
    const position = state.queue.indexOf(state.me.participant_id);
    setText(el.handNote, position >= 0 ? interpolate(gettext("You're number %(position)s in line."), { position: position + 1 }) : "");
    show(el.yield, holds);
    setText(el.yield, state.session?.mode === "round" ? gettext("Pass to the next person") : gettext("I'm done"));
    el.yield.disabled = state.connection !== "open";
  }

  function render() {
    setText(el.status, statusLine());
    if (state.session && state.session.status !== lastStatus) {
      if (lastStatus && state.session.status === "live") announce(gettext("The session has started."));
      lastStatus = state.session.status;
    }
    renderScreens();
    renderBanner();
    renderPrompt();
    renderFloor();
    renderComposer();
    renderHand();
  }

  function isUnanswered(message) {
    return message.participant_id === state.me?.participant_id && message.seq > unanswered.after && message.text === unanswered.text;
  }

  function settleUnanswered(messages) {
    if (!unanswered || !messages.some(isUnanswered)) return;
    if (el.text.value.trim() === unanswered.text) el.text.value = "";
    unanswered = null;
    composerNote = gettext("Your message was delivered.");
    renderComposer();
  }

  async function submit(event) {
    event.preventDefault();
    const text = el.text.value;
    if (!text.trim()) {
      composerNote = gettext("Write something first.");
      renderComposer();
      return;
    }
    sending = true;
    composerNote = "";
    unanswered = null;
    renderComposer();
    const privateTo = el.to?.value ? Number(el.to.value) : null;
    const after = state.lastSeq ?? 0; // this message, once stored, comes after every one seen so far
    try {
      if (privateTo) await socket.request("private.send", { participant_id: privateTo, text });
      else {
        const fields = el.privateLine?.checked ? { text, to: "facilitators" } : { text };
        const ack = await socket.sendMessage(fields, retry?.text === text ? retry.txnId : undefined);
        // Its answer was lost with the connection; sent again after the reconnect, it was stored once.
        if (ack.resent) composerNote = gettext("Your message was delivered.");
      }
      retry = null;
      el.text.value = "";
    } catch (error) {
      composerNote = sendError(error);
      retry = error.txn_id ? { text, txnId: error.txn_id } : null;
      if (error.maybe_sent) {
        // (The server trims what it stores.) The message may already be here: its broadcast can overtake the answer.
        unanswered = { text: text.trim(), after };
        settleUnanswered([...state.messages.values()]);
      }
    } finally {
      sending = false;
      renderComposer();
      if (!el.text.disabled) el.text.focus();
    }
  }

  function sendError(error) {
    if (error.code === "rate_limited" && error.retry_after) {
      return `${error.message} ${interpolate(gettext("Please wait %(seconds)s seconds. Your message is still here."), { seconds: Math.ceil(error.retry_after) })}`;
    }
    if (error.code === "offline" || error.code === "timeout" || error.code === "unavailable") {
      return `${error.message} ${gettext("Your message is still here.")}`;
    }
    return error.message || gettext("That message could not be sent.");
  }

  el.form.addEventListener("submit", submit);
  el.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.form.requestSubmit();
    }
  });
  el.text.addEventListener("input", () => {
    if (composerNote) {
      composerNote = "";
      renderComposer();
    }
  });
  el.privateLine?.addEventListener("change", renderComposer);
  el.hand?.addEventListener("click", async () => {
    const raised = Boolean(state.me?.hand_raised);
    try {
      await socket.request(raised ? "hand.lower" : "hand.raise");
      announce(raised ? gettext("You lowered your hand.") : gettext("Your hand is raised. The facilitator will see it."));
    } catch (error) {
      announce(error.message);
    }
  });
  el.yield?.addEventListener("click", async () => {
    try {
      await socket.request("floor.yield");
      el.hand?.focus();
    } catch (error) {
      announce(error.message);
    }
  });

  store.subscribe((what, detail) => {
    if (what === "frame" && detail.type === "error" && !detail.ref) composerNote = detail.message;
    if (what === "messages:add") settleUnanswered(detail);
    if (what === "messages:reset") settleUnanswered([...state.messages.values()]);
    if (what === "frame" || what === "connection") render();
  });
  // The countdown (and a floor that lapses between events).
  setInterval(() => {
    if (state.floor.expires_at) {
      renderFloor();
      renderComposer();
      renderHand();
    }
  }, 1000);
  return { render };
}
