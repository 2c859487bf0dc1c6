// The console's family side: the waiting room (let in, turn away, a note to it)
// and the invitations (a link to copy, withdraw).

import { gettext, interpolate } from "../i18n.js";
import { byId, h, reconcile, setText, show, srOnly } from "./dom.js";

// How a guest knows the patient (the protocol's English value, shown in the page's language).
const RELATIONSHIP_LABEL = {
  spouse: gettext("spouse or partner"),
  parent: gettext("parent"),
  child: gettext("child"),
  sibling: gettext("brother or sister"),
  friend: gettext("friend"),
};

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
        const relation = p.relationship && p.relationship !== "other" ? `, ${RELATIONSHIP_LABEL[p.relationship] ?? p.relationship}` : "";
        const of = p.guest_of_name ? ` (${interpolate(gettext("guest of %(name)s"), { name: p.guest_of_name })}${relation})` : "";
        setText(el.querySelector(".person-name"), `${p.display_name}${of}${p.online ? "" : ` · ${gettext("away")}`}`);
        el.querySelector('[data-act="admit"]').replaceChildren(gettext("Let in"), srOnly(` ${p.display_name}`));
        el.querySelector('[data-act="deny"]').replaceChildren(gettext("Turn away"), srOnly(` ${p.display_name}`));
      },
    );
    show(byId("lobby-empty"), waiting.length === 0);
    setText(byId("lobby-count"), waiting.length ? String(waiting.length) : "");
    show(byId("lobby-count"), waiting.length > 0);
  }
  const admit = (id) => act("lobby.admit", { participant_id: id }, interpolate(gettext("%(name)s is in the room."), { name: store.name(id) }));
  const deny = async (id) => {
    const name = store.name(id);
    const ok = await confirm({
      title: interpolate(gettext("Turn %(name)s away?"), { name }),
      text: interpolate(gettext("%(name)s will not join this session and their link will stop working."), { name }),
      action: interpolate(gettext("Turn %(name)s away"), { name }),
    });
    if (ok) act("lobby.deny", { participant_id: id }, interpolate(gettext("%(name)s was turned away."), { name }));
  };

  const lobbySay = byId("lobby-say");
  lobbySay?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = byId("lobby-say-text");
    if (!field.value.trim()) return;
    if (await act("lobby.say", { text: field.value }, gettext("Your note went to the waiting room."))) field.value = "";
  });

  // ------------------------------------------------------------------ family invitations

  const inviteFor = byId("invite-for");
  byId("invite-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = byId("invite-name");
    if (!inviteFor.value || !name.value.trim()) {
      say(gettext("Choose who the guest is for and write their name."));
      return;
    }
    const ack = await act("invite.create", { for_participant_id: Number(inviteFor.value), name: name.value.trim() });
    if (ack?.join_path) {
      const link = byId("invite-link");
      link.value = new URL(ack.join_path, location.origin).href;
      setText(byId("invite-link-label"), interpolate(gettext("Link for %(name)s: it works once, until the session ends"), { name: name.value.trim() }));
      show(byId("invite-result"), true);
      name.value = "";
      link.focus();
      link.select();
      say(gettext("The invitation link is ready to copy."));
    }
  });
  byId("invite-copy")?.addEventListener("click", async () => {
    const link = byId("invite-link");
    try {
      await navigator.clipboard.writeText(link.value);
      say(gettext("Link copied."));
    } catch {
      link.select();
      say(gettext("Select the link and copy it."));
    }
  });

  function renderInvites() {
    if (inviteFor) {
      const patients = Array.from(state.people.values()).filter((p) => p.role === "patient");
      const chosen = inviteFor.value;
      const options = patients.map((p) => h("option", { value: String(p.participant_id), text: p.display_name }));
      if (options.length !== inviteFor.options.length - 1 || patients.some((p, i) => inviteFor.options[i + 1]?.value !== String(p.participant_id))) {
        inviteFor.replaceChildren(h("option", { value: "", text: gettext("Choose a patient") }), ...options);
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
                onclick: () => act("invite.revoke", { invite_id: i.invite_id }, gettext("The invitation was withdrawn.")),
              })
            : null,
        ),
      (el, i) => {
        const what = {
          sent: gettext("not used yet"),
          redeemed: gettext("used"),
          in_lobby: gettext("in the waiting room"),
          admitted: gettext("in the room"),
          revoked: i.declined ? interpolate(gettext("declined by %(name)s"), { name: i.for_display_name }) : gettext("withdrawn"),
        }[i.state] ?? i.state;
        setText(el.querySelector(".invite-text"), interpolate(gettext("%(name)s, for %(patient)s: %(state)s"), { name: i.guest_display_name || i.name, patient: i.for_display_name, state: what }));
        const revoke = el.querySelector('[data-act="revoke"]');
        if (revoke) {
          revoke.replaceChildren(gettext("Withdraw"), srOnly(` ${interpolate(gettext("the invitation for %(name)s"), { name: i.name })}`));
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
