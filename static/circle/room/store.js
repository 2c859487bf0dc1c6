// The room as this page knows it, updated frame by frame (docs/protocol.md).
// Views subscribe and redraw; messages are reported one by one so the list
// can grow without being rebuilt.
import { gettext } from "../i18n.js";

// Live messages can arrive out of seq order: two messages committed moments apart
// are published by different threads, or workers, and the later one can overtake
// the earlier (docs/protocol.md). One that arrived this long ago has no earlier one
// still on its way, so a reconnect resumes from there and fetches the rest again.
const LIVE_REORDER_MS = 60_000;

export function createStore(myRole) {
  const listeners = new Set();
  const state = {
    myRole,
    connection: "connecting", // connecting | open | reconnecting | closed
    closeCode: null,
    session: null,
    me: null,
    people: new Map(), // participant_id -> participant
    floor: { holder: null, expires_at: null },
    queue: [],
    prompt: null,
    round: null, // {holder, next, seconds} while a round runs
    agenda: null,
    stats: null,
    crisis: null,
    alerts: [],
    lobbyNotes: [],
    invites: null, // family invitations (facilitators: the session's; a patient: their own)
    goals: null, // the clinical record's goals (facilitators: the roster's; a patient: their own)
    version: 0, // floor/queue version: older floor.changed / queue.updated are ignored
    messages: new Map(), // message_id -> message, in seq order
    lastSeq: null, // highest seq seen; null until the first session.state
  };
  let settledSeq = 0; // every visible message up to this seq is here (what a reconnect resumes after)
  let unsettled = []; // live messages' {seq, at}, arrival order, until LIVE_REORDER_MS has passed

  let noteCount = 0;
  const emit = (what, detail) => {
    for (const listener of listeners) listener(what, detail);
  };

  function addMessage(message) {
    if (state.messages.has(message.message_id)) return false;
    state.messages.set(message.message_id, message);
    state.lastSeq = Math.max(state.lastSeq ?? 0, message.seq);
    return true;
  }

  /** A session.state's messages come from the database: complete up to the newest of them. */
  function addStored(message) {
    settledSeq = Math.max(settledSeq, message.seq);
    return addMessage(message);
  }

  function settle(now) {
    while (unsettled.length && unsettled[0].at <= now - LIVE_REORDER_MS) {
      settledSeq = Math.max(settledSeq, unsettled.shift().seq);
    }
  }

  function fresh(version) {
    if (typeof version !== "number") return true;
    if (version < state.version) return false;
    state.version = version;
    return true;
  }

  function putPerson(person) {
    state.people.set(person.participant_id, person);
    if (state.me && person.participant_id === state.me.participant_id) {
      state.me = { ...state.me, ...person, online: true };
    }
  }

  const handlers = {
    "session.state"(frame, { resumed }) {
      state.session = frame.session;
      state.me = frame.me;
      state.people = new Map(frame.participants.map((p) => [p.participant_id, p]));
      state.people.set(frame.me.participant_id, { ...frame.me, online: true });
      state.floor = frame.floor;
      state.queue = frame.queue;
      state.prompt = frame.prompt;
      state.round = frame.round ?? null;
      state.agenda = frame.agenda ?? state.agenda;
      state.stats = frame.stats ?? state.stats;
      state.crisis = frame.crisis_resources ?? state.crisis;
      state.invites = frame.invites ?? state.invites;
      state.goals = frame.goals ?? state.goals;
      state.version = typeof frame.version === "number" ? frame.version : state.version;
      if (resumed) {
        // ?since=: the messages after the last one seen; merge, never twice.
        const added = frame.messages.filter(addStored);
        emit("messages:add", added);
        // Messages removed while this page was away.
        for (const id of frame.removed_message_ids ?? []) {
          if (state.messages.delete(id)) emit("messages:remove", id);
        }
      } else {
        // A first connection, or a fresh state (a guest just admitted): start over.
        state.messages = new Map();
        state.lastSeq = state.lastSeq ?? 0;
        unsettled = [];
        frame.messages.forEach(addStored);
        emit("messages:reset");
      }
    },
    "chat.message"(frame) {
      const { type, ...message } = frame;
      if (!addMessage(message)) return;
      const now = Date.now();
      unsettled.push({ seq: message.seq, at: now });
      settle(now);
      emit("messages:add", [message]);
    },
    "message.removed"(frame) {
      if (state.messages.delete(frame.message_id)) emit("messages:remove", frame.message_id);
    },
    "participant.joined"(frame) {
      putPerson(frame.participant);
    },
    "participant.left"(frame) {
      const person = state.people.get(frame.participant_id);
      if (person) state.people.set(person.participant_id, { ...person, online: false });
    },
    "participant.updated"(frame) {
      putPerson(frame.participant);
    },
    "participant.removed"(frame) {
      state.people.delete(frame.participant_id);
      state.queue = state.queue.filter((id) => id !== frame.participant_id);
    },
    "lobby.waiting"(frame) {
      putPerson(frame.participant);
    },
    "queue.updated"(frame) {
      if (fresh(frame.version)) state.queue = frame.queue;
    },
    "floor.changed"(frame) {
      if (!fresh(frame.version)) return;
      state.floor = { holder: frame.holder, expires_at: frame.expires_at };
      if (state.round) state.round = { ...state.round, holder: frame.holder };
    },
    "mode.changed"(frame) {
      state.session = { ...state.session, mode: frame.mode, round_seconds: frame.round_seconds ?? state.session.round_seconds };
      if (frame.mode !== "round") state.round = null;
      else state.round = state.round ?? { holder: null, next: null, seconds: frame.round_seconds };
    },
    "round.turn"(frame) {
      if (frame.how === "end" || frame.holder === null) {
        state.round = null;
        return;
      }
      state.round = { holder: frame.holder, next: frame.next, seconds: state.session?.round_seconds ?? null };
      state.floor = { holder: frame.holder, expires_at: frame.expires_at };
    },
    "prompt.posted"(frame) {
      state.prompt = frame.prompt;
    },
    "session.status"(frame) {
      state.session = { ...state.session, status: frame.status };
      if (frame.status === "ended") {
        state.floor = { holder: null, expires_at: null };
        state.round = null;
      }
    },
    "slowmode.changed"(frame) {
      state.session = { ...state.session, slowmode_seconds: frame.seconds };
    },
    "agenda.updated"(frame) {
      state.agenda = frame.agenda;
    },
    stats(frame) {
      const { type, ...stats } = frame;
      state.stats = stats;
    },
    alert(frame) {
      state.alerts = [{ ...frame, received_at: new Date().toISOString() }, ...state.alerts].slice(0, 50);
    },
    "lobby.message"(frame) {
      noteCount += 1;
      state.lobbyNotes = [...state.lobbyNotes, { ...frame, n: noteCount }].slice(-20);
    },
    "goal.updated"(frame) {
      // The whole goal with its history; the console shows its last review.
      const others = (state.goals ?? []).filter((g) => g.goal_id !== frame.goal.goal_id);
      state.goals = [...others, frame.goal].sort((a, b) => a.goal_id - b.goal_id);
    },
    "invite.updated"(frame) {
      const others = (state.invites ?? []).filter((i) => i.invite_id !== frame.invite.invite_id);
      state.invites = [...others, frame.invite].sort((a, b) => a.invite_id - b.invite_id);
    },
  };

  return {
    state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    apply(frame, meta = {}) {
      const handler = handlers[frame.type];
      if (handler) handler(frame, meta);
      emit("frame", frame);
    },
    setConnection(connection, closeCode = null) {
      state.connection = connection;
      if (closeCode !== null) state.closeCode = closeCode;
      emit("connection", connection);
    },
    dismissAlert(messageId) {
      state.alerts = state.alerts.filter((a) => a.message_id !== messageId);
      emit("frame", { type: "alert.dismissed" });
    },
    /**
     * The seq a reconnect resumes after (?since=), or null before the first
     * session.state. Not the highest seq seen: a live message that overtook an
     * earlier one must not hide it; what comes twice is merged by message_id.
     */
    resumeAfter(now = Date.now()) {
      if (state.lastSeq === null) return null;
      settle(now);
      return settledSeq;
    },
    person(id) {
      return state.people.get(id) ?? null;
    },
    name(id) {
      if (state.me && id === state.me.participant_id) return gettext("You");
      return state.people.get(id)?.display_name ?? gettext("Someone");
    },
    /** The floor holder, or null once the deadline has passed. */
    holder(now = Date.now()) {
      const { holder, expires_at: expires } = state.floor;
      if (holder === null || holder === undefined) return null;
      if (expires && Date.parse(expires) <= now) return null;
      return holder;
    },
    secondsLeft(now = Date.now()) {
      const expires = state.floor.expires_at;
      return expires ? Math.max(0, (Date.parse(expires) - now) / 1000) : null;
    },
  };
}
