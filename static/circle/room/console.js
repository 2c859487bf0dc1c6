// The facilitator console: session, floor and queue, waiting room, topic and
// agenda, family invitations, alerts, participation. Every control sends one
// frame the server handles (rooms/consumers.py HANDLERS); controls for frames
// this server does not handle are not on the page at all (room_context.py).

import { announce, byId, clock, h, reconcile, setText, show, srOnly } from "./dom.js";
import { roleLabel } from "./people.js";

const KIND_LABEL = {
  suicide: "Possible risk of suicide",
  self_harm: "Possible risk of self-harm",
  overdose: "Possible risk of overdose",
  relapse: "Possible risk of relapse",
};

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
      say(error.message || "That didn't work. Please try again.");
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
  start?.addEventListener("click", () => act("session.start", {}, "The session has started."));

  for (const button of document.querySelectorAll("[data-mode]")) {
    button.addEventListener("click", () => act("mode.set", { mode: button.dataset.mode }));
  }
  const roundSeconds = byId("round-seconds");
  byId("round-start")?.addEventListener("click", () =>
    act("mode.set", { mode: "round", seconds: boundedSeconds(roundSeconds, 10, 900, 120) }),
  );
  byId("round-next")?.addEventListener("click", () => act("round.next"));
  byId("round-end")?.addEventListener("click", () => act("floor.revoke", {}, "The round has ended."));

  const slowmode = byId("slowmode");
  slowmode?.addEventListener("change", () => {
    const seconds = Number(slowmode.value);
    act("slowmode.set", { seconds }, seconds ? `Slow mode is on: one message every ${seconds} seconds.` : "Slow mode is off.");
  });

  byId("end-session")?.addEventListener("click", async () => {
    const ok = await confirm({
      title: "End the session for everyone?",
      text: "Everyone will be disconnected and the room will close. This can't be undone.",
      action: "End the session",
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
    return act("floor.grant", { participant_id: id, seconds }, `${store.name(id)} has the floor for ${clock(seconds)}.`);
  };
  byId("give-next")?.addEventListener("click", () => {
    if (state.queue.length) grant(state.queue[0]);
  });
  byId("take-back")?.addEventListener("click", () => act("floor.revoke", {}, "You took the floor back."));
  byId("clear-hands")?.addEventListener("click", () => act("hand.clear", {}, "All hands are lowered."));

  function renderFloorControls() {
    const next = byId("give-next");
    if (next) {
      next.disabled = state.queue.length === 0 || state.session?.status === "ended";
      setText(next, state.queue.length ? `Give the floor to ${store.name(state.queue[0])}` : "Give the floor to the next person");
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
    button.replaceChildren("Give floor", srOnly(` to ${store.name(id)}`));
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
            if (target?.muted) act("participant.unmute", { participant_id: id() }, `${target.display_name} can write again.`);
            else act("participant.mute", { participant_id: id() }, `${store.name(id())} is muted.`);
          },
        }),
        has("lobby.return") && person.role === "guest"
          ? h("button", {
              type: "button",
              class: "small secondary",
              dataset: { act: "lobby" },
              onclick: () => act("lobby.return", { participant_id: id() }, `${store.name(id())} is back in the waiting room.`),
            })
          : "",
        h("button", {
          type: "button",
          class: "small danger-quiet",
          dataset: { act: "remove" },
          onclick: async () => {
            const name = store.name(id());
            const ok = await confirm({
              title: `Remove ${name} from the session?`,
              text: `${name} will leave the room and can't come back to this session.`,
              action: `Remove ${name}`,
              reason: true,
            });
            if (ok) act("participant.remove", { participant_id: id(), reason: ok.reason }, `${name} was removed.`);
          },
        }),
      );
    }
    const name = person.display_name;
    const label = (selector, text) => {
      const button = container.querySelector(selector);
      if (button) button.replaceChildren(text, srOnly(` ${name}`));
    };
    label('[data-act="floor"]', "Give floor");
    label('[data-act="mute"]', person.muted ? "Unmute" : "Mute");
    label('[data-act="lobby"]', "To waiting room");
    label('[data-act="remove"]', "Remove");
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
          onclick: () => act("message.remove", { message_id: message.message_id }, "The message was removed."),
        },
        "Remove",
        srOnly(` message from ${message.display_name}`),
      ),
    );
  }

  // ------------------------------------------------------------------ waiting room

  const lobbyList = byId("lobby-list");
  function renderLobby() {
    if (!lobbyList) return;
    const waiting = Array.from(state.people.values()).filter((p) => p.role === "guest" && !p.admitted);
    reconcile(
      lobbyList,
      waiting,
      (p) => p.participant_id,
      (p) =>
        h(
          "li",
          { class: "waiting-guest" },
          h("span", { class: "person-name" }),
          h(
            "span",
            { class: "person-actions" },
            h("button", { type: "button", class: "small", dataset: { act: "admit" }, onclick: () => admit(p.participant_id) }),
            h("button", { type: "button", class: "small secondary", dataset: { act: "deny" }, onclick: () => deny(p.participant_id) }),
          ),
        ),
      (el, p) => {
        const relation = p.relationship && p.relationship !== "other" ? `, ${p.relationship}` : "";
        const of = p.guest_of_name ? ` (guest of ${p.guest_of_name}${relation})` : "";
        setText(el.querySelector(".person-name"), `${p.display_name}${of}${p.online ? "" : " · away"}`);
        el.querySelector('[data-act="admit"]').replaceChildren("Let in", srOnly(` ${p.display_name}`));
        el.querySelector('[data-act="deny"]').replaceChildren("Turn away", srOnly(` ${p.display_name}`));
      },
    );
    show(byId("lobby-empty"), waiting.length === 0);
    setText(byId("lobby-count"), waiting.length ? String(waiting.length) : "");
    show(byId("lobby-count"), waiting.length > 0);
  }
  const admit = (id) => act("lobby.admit", { participant_id: id }, `${store.name(id)} is in the room.`);
  const deny = async (id) => {
    const name = store.name(id);
    const ok = await confirm({
      title: `Turn ${name} away?`,
      text: `${name} will not join this session and their link will stop working.`,
      action: `Turn ${name} away`,
    });
    if (ok) act("lobby.deny", { participant_id: id }, `${name} was turned away.`);
  };

  const lobbySay = byId("lobby-say");
  lobbySay?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = byId("lobby-say-text");
    if (!field.value.trim()) return;
    if (await act("lobby.say", { text: field.value }, "Your note went to the waiting room.")) field.value = "";
  });

  // ------------------------------------------------------------------ topic and agenda

  const promptSelect = byId("console-prompt");
  byId("prompt-post")?.addEventListener("click", () => {
    if (promptSelect?.value) act("prompt.post", { prompt_id: Number(promptSelect.value) }, "The topic is pinned.");
  });
  byId("agenda-add")?.addEventListener("click", () => {
    if (promptSelect?.value) act("agenda.add", { prompt_id: Number(promptSelect.value) }, "Added to the agenda.");
  });
  byId("own-prompt")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = byId("own-prompt-text");
    const category = byId("own-prompt-category").value;
    if (!text.value.trim()) return;
    if (await act("prompt.post", { category, text: text.value.trim() }, "Your topic is pinned.")) text.value = "";
  });
  byId("agenda-next")?.addEventListener("click", () => act("agenda.next", {}, "The next topic on the agenda is pinned."));

  const agendaList = byId("agenda-list");
  function renderAgenda() {
    if (!agendaList) return;
    const items = state.agenda ?? [];
    reconcile(
      agendaList,
      items,
      (i) => i.item_id,
      (i) =>
        h(
          "li",
          { class: "agenda-item" },
          h("span", { class: "agenda-text" }),
          h(
            "button",
            {
              type: "button",
              class: "small link-button",
              onclick: () => act("agenda.remove", { item_id: i.item_id }),
            },
            "Remove",
            srOnly(" from the agenda"),
          ),
        ),
      (el, i) => {
        el.classList.toggle("is-posted", Boolean(i.posted_at));
        setText(el.querySelector(".agenda-text"), i.posted_at ? `${i.prompt.text} (posted)` : i.prompt.text);
      },
    );
    const left = items.filter((i) => !i.posted_at).length;
    show(byId("agenda-empty"), items.length === 0);
    const next = byId("agenda-next");
    if (next) next.disabled = left === 0 || state.session?.status === "ended";
  }

  // ------------------------------------------------------------------ family invitations

  const inviteFor = byId("invite-for");
  byId("invite-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = byId("invite-name");
    if (!inviteFor.value || !name.value.trim()) {
      say("Choose who the guest is for and write their name.");
      return;
    }
    const ack = await act("invite.create", { for_participant_id: Number(inviteFor.value), name: name.value.trim() });
    if (ack?.join_path) {
      const link = byId("invite-link");
      link.value = new URL(ack.join_path, location.origin).href;
      setText(byId("invite-link-label"), `Link for ${name.value.trim()}: it works once, until the session ends`);
      show(byId("invite-result"), true);
      name.value = "";
      link.focus();
      link.select();
      say("The invitation link is ready to copy.");
    }
  });
  byId("invite-copy")?.addEventListener("click", async () => {
    const link = byId("invite-link");
    try {
      await navigator.clipboard.writeText(link.value);
      say("Link copied.");
    } catch {
      link.select();
      say("Select the link and copy it.");
    }
  });

  function renderInvites() {
    if (inviteFor) {
      const patients = Array.from(state.people.values()).filter((p) => p.role === "patient");
      const chosen = inviteFor.value;
      const options = patients.map((p) => h("option", { value: String(p.participant_id), text: p.display_name }));
      if (options.length !== inviteFor.options.length - 1 || patients.some((p, i) => inviteFor.options[i + 1]?.value !== String(p.participant_id))) {
        inviteFor.replaceChildren(h("option", { value: "", text: "Choose a patient" }), ...options);
        inviteFor.value = chosen;
      }
    }
    const list = byId("invite-list");
    if (!list) return;
    const invites = (state.invites ?? []).filter((i) => i.state !== "lapsed");
    reconcile(
      list,
      invites,
      (i) => i.invite_id,
      (i) =>
        h(
          "li",
          { class: "invite" },
          h("span", { class: "invite-text" }),
          has("invite.revoke")
            ? h("button", {
                type: "button",
                class: "small link-button",
                dataset: { act: "revoke" },
                onclick: () => act("invite.revoke", { invite_id: i.invite_id }, "The invitation was withdrawn."),
              })
            : null,
        ),
      (el, i) => {
        const what = {
          sent: "not used yet",
          redeemed: "used",
          in_lobby: "in the waiting room",
          admitted: "in the room",
          revoked: i.declined ? `declined by ${i.for_display_name}` : "withdrawn",
        }[i.state] ?? i.state;
        setText(el.querySelector(".invite-text"), `${i.guest_display_name || i.name}, for ${i.for_display_name}: ${what}`);
        const revoke = el.querySelector('[data-act="revoke"]');
        if (revoke) {
          revoke.replaceChildren("Withdraw", srOnly(` the invitation for ${i.name}`));
          show(revoke, i.state !== "revoked");
        }
      },
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
        h("option", { value: "", text: "Everyone" }),
        ...people.map((p) => h("option", { value: String(p.participant_id), text: `Only ${p.display_name}` })),
      );
      composerTo.value = wanted.includes(chosen) ? chosen : "";
    }
  }

  // ------------------------------------------------------------------ alerts and crisis resources

  const alertList = byId("alert-list");
  function renderAlerts() {
    if (!alertList) return;
    reconcile(
      alertList,
      state.alerts,
      (a) => a.message_id,
      (a) =>
        h(
          "li",
          { class: "alert-item" },
          h("p", { class: "alert-kind" }),
          h("blockquote", { class: "alert-excerpt" }),
          h(
            "p",
            { class: "alert-actions" },
            h("a", { href: `#m${a.message_id}`, class: "small" }, "Show the message"),
            h("button", { type: "button", class: "small link-button", onclick: () => store.dismissAlert(a.message_id) }, "Dismiss", srOnly(" this alert")),
          ),
        ),
      (el, a) => {
        setText(el.querySelector(".alert-kind"), `${KIND_LABEL[a.kind] ?? "Needs attention"}: ${store.name(a.participant_id)}`);
        setText(el.querySelector(".alert-excerpt"), a.excerpt);
      },
    );
    show(byId("alerts-empty"), state.alerts.length === 0);
    setText(byId("alert-count"), state.alerts.length ? String(state.alerts.length) : "");
    show(byId("alert-count"), state.alerts.length > 0);
    const resources = state.alerts[0]?.resources || state.crisis;
    if (resources) setText(byId("crisis-text"), resources);
    byId("panel-alerts")?.classList.toggle("has-alerts", state.alerts.length > 0);
  }

  // ------------------------------------------------------------------ participation balance

  const balance = byId("balance");
  function renderBalance() {
    if (!balance) return;
    const rows = participation();
    const most = Math.max(1, ...rows.map((r) => r.characters));
    reconcile(
      balance,
      rows,
      (r) => r.participant_id,
      (r) => {
        const id = `bal-${r.participant_id}`;
        return h(
          "li",
          { class: "balance-row" },
          h("span", { class: "balance-name", id }),
          h("meter", { min: "0", max: "100", value: "0", "aria-labelledby": id }),
          h("span", { class: "balance-detail" }),
        );
      },
      (el, r) => {
        setText(el.querySelector(".balance-name"), store.name(r.participant_id));
        el.querySelector("meter").value = Math.round((100 * r.characters) / most);
        const minutes = r.floor_seconds ? ` · ${clock(r.floor_seconds)} on the floor` : "";
        setText(el.querySelector(".balance-detail"), `${r.messages} message${r.messages === 1 ? "" : "s"}${minutes}`);
      },
    );
    const quiet = rows.filter((r) => r.messages === 0).map((r) => store.name(r.participant_id));
    setText(byId("not-spoken"), quiet.length ? `Not heard from yet: ${quiet.join(", ")}` : rows.length ? "Everyone has written something." : "");
  }

  /** The server's stats when it sends them; otherwise counted from the messages on this page. */
  function participation() {
    const people = Array.from(state.people.values()).filter((p) => p.role === "patient" || (p.role === "guest" && p.admitted));
    const counted = new Map(people.map((p) => [p.participant_id, { participant_id: p.participant_id, messages: 0, characters: 0, floor_seconds: 0 }]));
    if (state.stats?.participants) {
      for (const row of state.stats.participants) if (counted.has(row.participant_id)) counted.set(row.participant_id, row);
    } else {
      for (const m of state.messages.values()) {
        const row = counted.get(m.participant_id);
        if (row && m.audience === "room") {
          row.messages += 1;
          row.characters += m.text.length;
        }
      }
    }
    return Array.from(counted.values());
  }

  // ------------------------------------------------------------------ everything

  function render() {
    renderSession();
    renderFloorControls();
    renderLobby();
    renderAgenda();
    renderInvites();
    renderComposerTo();
    renderAlerts();
    renderBalance();
  }
  store.subscribe((what, frame) => {
    if (what === "frame" && frame.type === "alert") {
      announce(`Alert: a message from ${store.name(frame.participant_id)} may need your attention.`);
    }
    if (what === "frame" && frame.type === "lobby.waiting") announce(`${frame.participant.display_name} is in the waiting room.`);
    if (what === "frame" || what === "connection" || what.startsWith("messages")) render();
  });

  return { personActions, queueActions, messageActions, render, roleLabel };
}

function boundedSeconds(input, min, max, fallback) {
  const value = Math.round(Number(input?.value));
  if (!Number.isFinite(value) || value < min) return fallback;
  return Math.min(value, max);
}
