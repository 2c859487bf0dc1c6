// The conversation: an append-only list (role="log", so screen readers read
// new messages politely), keyed by message id so nothing shows twice.

import { gettext, interpolate } from "../i18n.js";
import { byId, h, localTime, show } from "./dom.js";
import { messageBody } from "./sanitize.js";

const NEAR_BOTTOM_PX = 80;

export function mountMessages(store, { messageActions = null } = {}) {
  const list = byId("messages");
  const scroller = byId("message-log");
  const empty = byId("no-messages");
  const { state } = store;

  function audienceNote(message) {
    if (message.audience === "facilitators") {
      return message.participant_id === state.me?.participant_id ? gettext("Private: only the facilitator sees this") : gettext("Private, to the facilitators");
    }
    if (message.audience === "private") {
      if (message.recipient_id === state.me?.participant_id) return gettext("Private, to you");
      return interpolate(gettext("Private, to %(name)s"), { name: store.name(message.recipient_id) });
    }
    return null;
  }

  function roleNote(message) {
    if (message.role === "facilitator") return gettext("facilitator");
    if (message.role === "guest") {
      const person = store.person(message.participant_id);
      return person?.guest_of_name ? interpolate(gettext("guest of %(name)s"), { name: person.guest_of_name }) : gettext("guest");
    }
    return null;
  }

  function render(message) {
    const mine = message.participant_id === state.me?.participant_id;
    const note = audienceNote(message);
    const role = roleNote(message);
    const item = h(
      "li",
      {
        id: `m${message.message_id}`,
        class: ["msg", mine && "is-mine", message.role === "facilitator" && "is-facilitator", note && "is-private"]
          .filter(Boolean)
          .join(" "),
        dataset: { seq: String(message.seq), key: String(message.message_id) },
      },
      h(
        "p",
        { class: "msg-head" },
        h("span", { class: "msg-name", text: mine ? gettext("You") : message.display_name }),
        role ? h("span", { class: "msg-role", text: role }) : null,
        h("time", { class: "msg-time", datetime: message.sent_at, text: localTime(message.sent_at) }),
        note ? h("span", { class: "msg-private", text: note }) : null,
      ),
      h("div", { class: "msg-body" }, messageBody(message.html)),
    );
    if (messageActions) messageActions(item, message);
    return item;
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToEnd() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function insertInOrder(item, seq) {
    // Messages normally arrive in order; a late one slots in by seq.
    let after = list.lastElementChild;
    while (after && Number(after.dataset.seq) > seq) after = after.previousElementSibling;
    if (after) after.after(item);
    else list.prepend(item);
  }

  function reset() {
    scroller.setAttribute("aria-busy", "true");
    list.replaceChildren(...Array.from(state.messages.values(), render));
    scroller.setAttribute("aria-busy", "false");
    show(empty, state.messages.size === 0);
    scrollToEnd();
  }

  store.subscribe((what, detail) => {
    if (what === "messages:reset") reset();
    else if (what === "messages:add" && detail.length) {
      const follow = nearBottom() || detail.some((m) => m.participant_id === state.me?.participant_id);
      for (const message of detail) {
        if (!document.getElementById(`m${message.message_id}`)) insertInOrder(render(message), message.seq);
      }
      show(empty, false);
      if (follow) scrollToEnd();
    } else if (what === "messages:remove") {
      const item = document.getElementById(`m${detail}`);
      if (item) {
        const hadFocus = item.contains(document.activeElement);
        item.remove();
        if (hadFocus) scroller.focus();
      }
      show(empty, state.messages.size === 0);
    }
  });


}
