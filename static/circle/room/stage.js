// What everyone sees around the conversation: the room's status, the
// reconnecting banner, the pinned topic, whose turn it is (with a countdown),
// the composer (disabled with the reason said plainly), the hand and "I'm done".

import { announce, byId, clock, h, setText, show } from "./dom.js";

const MODE_LABEL = {
  open: "Open conversation",
  moderated: "Hands up",
  round: "Check-in round",
};

const CATEGORY_LABEL = {
  stress: "Stress",
  triggers: "Triggers",
  medication: "Medication",
  mental_health: "Mental health",
  coping: "Coping",
  family: "Family and relationships",
  goals: "Goals",
  withdrawal: "Withdrawal and cravings",
  motivation: "Motivation",
};

const CLOSED = {
  4401: ["You've been signed out", "Please sign in again to come back to the session.", "signin"],
  4403: ["You're no longer in this session", "If you think this is a mistake, please speak to your facilitator.", "home"],
  4404: ["This session doesn't exist", "Please check the link, or go back to your sessions.", "home"],
  4410: ["This session has ended", "Thank you for being here today.", "home"],
};

function possessive(name) {
  return name === "You" ? "Your" : `${name}'s`;
}

/** What the composer allows right now, and why not (docs/protocol.md, Rules). */
export function composerState(store, privateLine) {
  const { state } = store;
  const { me, session } = state;
  if (!me || !session) return { ok: false, reason: "Connecting…" };
  if (state.connection === "closed") return { ok: false, reason: "" };
  if (state.connection !== "open") return { ok: false, reason: "Reconnecting… you can write again in a moment." };
  if (session.status === "ended") return { ok: false, reason: "This session has ended." };
  if (me.role === "guest" && !me.admitted) return { ok: false, reason: "You're in the waiting room." };
  if (me.role === "facilitator") return { ok: true, reason: "" };
  if (session.status !== "live") return { ok: false, reason: "The session hasn't started yet. You can write once the facilitator starts it." };
  if (me.muted) return { ok: false, reason: "The facilitator has muted you for now. You can still read along." };
  const slow = session.slowmode_seconds ? ` Slow mode: one message every ${session.slowmode_seconds} seconds.` : "";
  if (privateLine) return { ok: true, reason: `Only the facilitator will see this message.${slow}` };
  const holder = store.holder();
  if (holder === me.participant_id) return { ok: true, reason: `You have the floor.${slow}` };
  if (me.role === "guest") return { ok: false, reason: "You can write when the facilitator gives you a turn." };
  if (session.mode === "open") return { ok: true, reason: slow.trim() };
  if (session.mode === "round") {
    return { ok: false, reason: holder ? `It's ${store.name(holder)}'s turn in the round. Yours will come.` : "A round is starting." };
  }
  return {
    ok: false,
    reason: me.hand_raised
      ? "Your hand is raised. The facilitator will give you the floor."
      : "Raise your hand and the facilitator will give you the floor.",
  };
}

/** "Sam's turn, 2:40 left, next: Alex" and friends. */
export function floorLine(store) {
  const { state } = store;
  const { session } = state;
  if (!session) return "";
  if (session.status === "ended") return "The session has ended.";
  const holder = store.holder();
  const left = store.secondsLeft();
  const time = left === null ? "" : `, ${clock(left)} left`;
  if (session.mode === "round" && state.round) {
    if (holder === null) return "The round is moving on…";
    const next = state.round.next ? `next: ${store.name(state.round.next)}` : "last turn";
    return `${possessive(store.name(holder))} turn${time}, ${next}`;
  }
  if (holder !== null) {
    return holder === state.me?.participant_id ? `You have the floor${time}` : `${store.name(holder)} has the floor${time}`;
  }
  if (session.status !== "live") return "The session hasn't started yet.";
  if (session.mode === "open") return "Open conversation: everyone can write.";
  return state.me?.role === "facilitator" ? "No one has the floor." : "No one has the floor. Raise your hand to ask for a turn.";
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

  function statusLine() {
    const { session } = state;
    if (!session) return "Connecting…";
    const status = { scheduled: "Not started yet", live: "Live", ended: "Ended" }[session.status];
    const parts = [status];
    if (session.status === "live") parts.push(MODE_LABEL[session.mode]);
    if (session.status === "live" && session.slowmode_seconds) parts.push(`slow mode ${session.slowmode_seconds} s`);
    return parts.join(" · ");
  }

  function renderScreens() {
    const closed = state.connection === "closed";
    const waiting = !closed && state.me?.role === "guest" && !state.me.admitted;
    const code = closed ? state.closeCode : state.session?.status === "ended" ? 4410 : null;
    const inside = Boolean(state.me) && (state.me.role !== "guest" || state.me.admitted);
    show(el.lobby, waiting);
    // After the end the conversation stays readable; after a removal or a sign-out it goes.
    show(el.body, inside && !waiting && (code === null || code === 4410));
    show(el.closed, code !== null);
    el.root.classList.toggle("is-over", code !== null);
    if (code !== null) {
      const guest = state.me?.role === "guest" || el.root.dataset.role === "guest";
      let [heading, text, link] = CLOSED[code] ?? ["You've left the session", "", "home"];
      if (code === 4403 && guest && !state.me?.admitted) {
        heading = "The facilitator couldn't let you in this time";
        text = "Thank you for coming. Please speak to the person who invited you.";
      }
      setText(el.closedHeading, heading);
      setText(el.closedText, text);
      if (el.closedLink) {
        const target = link === "signin" ? `/accounts/login/?next=${encodeURIComponent(location.pathname)}` : "/";
        el.closedLink.href = target;
        setText(el.closedLink, link === "signin" ? "Sign in" : "Back to your sessions");
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
    if (reconnecting) setText(el.banner, "Connection lost. Reconnecting… you won't miss any messages.");
  }

  function renderPrompt() {
    show(el.prompt, Boolean(state.prompt));
    if (state.prompt) {
      setText(el.promptText, state.prompt.text);
      setText(el.promptCategory, CATEGORY_LABEL[state.prompt.category] ?? state.prompt.category);
    }
  }

  function renderFloor() {
    setText(el.floor, floorLine(store));
    const holder = store.holder();
    if (lastHolder !== undefined && holder !== lastHolder && state.session?.status === "live") {
      if (holder === state.me?.participant_id) announce("You have the floor. You can write now.");
      else if (holder !== null) announce(`${store.name(holder)} has the floor.`);
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
    setText(el.hand, raised ? "Lower my hand" : "Raise my hand");
    el.hand.disabled = state.connection !== "open" || state.session?.status === "ended" || state.me.muted || (!raised && holds);
    const position = state.queue.indexOf(state.me.participant_id);
    setText(el.handNote, position >= 0 ? `You're number ${position + 1} in line.` : "");
    show(el.yield, holds);
    setText(el.yield, state.session?.mode === "round" ? "Pass to the next person" : "I'm done");
    el.yield.disabled = state.connection !== "open";
  }

  function render() {
    setText(el.status, statusLine());
    if (state.session && state.session.status !== lastStatus) {
      if (lastStatus && state.session.status === "live") announce("The session has started.");
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
    composerNote = "Your message was delivered.";
    renderComposer();
  }

  async function submit(event) {
    event.preventDefault();
    const text = el.text.value;
    if (!text.trim()) {
      composerNote = "Write something first.";
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
      else if (el.privateLine?.checked) await socket.request("chat.send", { text, to: "facilitators" });
      else await socket.request("chat.send", { text });
      el.text.value = "";
    } catch (error) {
      composerNote = sendError(error);
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
      return `${error.message} Please wait ${Math.ceil(error.retry_after)} seconds. Your message is still here.`;
    }
    if (error.code === "offline" || error.code === "timeout" || error.code === "unavailable") {
      return `${error.message} Your message is still here.`;
    }
    return error.message || "That message could not be sent.";
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
      announce(raised ? "You lowered your hand." : "Your hand is raised. The facilitator will see it.");
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
