// The console's family side: the waiting room (let in, turn away, a note to it)
// and the invitations (a link to copy, withdraw).

import { byId, h, reconcile, setText, show, srOnly } from "./dom.js";

export function mountGuests({ store, act, say, confirm, has }) {
  const { state } = store;

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

  return () => {
    renderLobby();
    renderInvites();
  };
}
