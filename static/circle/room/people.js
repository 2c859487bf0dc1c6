// Who is here (online, muted, hand raised, holding the floor) and the queue of raised hands.

import { gettext, interpolate } from "../i18n.js";
import { byId, h, reconcile, setText, show, srOnly } from "./dom.js";

const ROLE_ORDER = { facilitator: 0, patient: 1, guest: 2 };

export function roleLabel(person) {
  if (person.role === "facilitator") return gettext("facilitator");
  if (person.role === "guest") {
    return person.guest_of_name ? interpolate(gettext("guest of %(name)s"), { name: person.guest_of_name }) : gettext("guest");
  }
  return "";
}

/** People in the room (lobby guests are not: facilitators see them in the waiting-room panel). */
export function roomPeople(state) {
  return Array.from(state.people.values())
    .filter((p) => p.role !== "guest" || p.admitted)
    .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
}

export function mountPeople(store, { personActions = null, queueActions = null } = {}) {
  const { state } = store;
  const list = byId("people");
  const queue = byId("queue");
  const queueEmpty = byId("queue-empty");
  const count = byId("people-count");

  function createPerson(person) {
    return h(
      "li",
      { class: "person" },
      h("span", { class: "dot", "aria-hidden": "true" }),
      h("span", { class: "person-name" }),
      h("span", { class: "person-role" }),
      h("span", { class: "chips" }),
      personActions ? h("span", { class: "person-actions" }) : null,
    );
  }

  function updatePerson(el, person) {
    const me = person.participant_id === state.me?.participant_id;
    const holder = store.holder() === person.participant_id;
    el.classList.toggle("is-online", person.online);
    setText(el.querySelector(".person-name"), me ? interpolate(gettext("%(name)s (you)"), { name: person.display_name }) : person.display_name);
    setText(el.querySelector(".person-role"), roleLabel(person));
    const chips = [];
    chips.push(person.online ? srOnly(gettext("online")) : h("span", { class: "chip chip-away", text: gettext("away") }));
    if (holder) chips.push(h("span", { class: "chip chip-floor", text: gettext("has the floor") }));
    if (person.hand_raised) chips.push(h("span", { class: "chip chip-hand", text: gettext("hand raised") }));
    if (person.muted) chips.push(h("span", { class: "chip chip-muted", text: gettext("muted") }));
    el.querySelector(".chips").replaceChildren(...chips);
    if (personActions) personActions(el.querySelector(".person-actions"), person);
  }

  function createQueued() {
    return h("li", { class: "queued" }, h("span", { class: "queued-name" }), queueActions ? h("span", { class: "queued-actions" }) : null);
  }

  function updateQueued(el, id) {
    const me = id === state.me?.participant_id;
    setText(el.querySelector(".queued-name"), me ? gettext("You") : store.name(id));
    if (queueActions) queueActions(el.querySelector(".queued-actions"), id);
  }

  function render() {
    if (!state.me) return;
    const people = roomPeople(state);
    reconcile(list, people, (p) => p.participant_id, createPerson, updatePerson);
    if (count) setText(count, interpolate(gettext("%(count)s here"), { count: people.filter((p) => p.online).length }));
    reconcile(queue, state.queue, (id) => id, createQueued, updateQueued);
    show(queueEmpty, state.queue.length === 0);
  }

  store.subscribe((what) => {
    if (what === "frame" || what === "connection") render();
  });
  return { render };
}
