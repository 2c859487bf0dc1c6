// Who is here (online, muted, hand raised, holding the floor) and the queue of raised hands.

import { byId, h, reconcile, setText, show, srOnly } from "./dom.js";

const ROLE_ORDER = { facilitator: 0, patient: 1, guest: 2 };

export function roleLabel(person) {
  if (person.role === "facilitator") return "facilitator";
  if (person.role === "guest") return person.guest_of_name ? `guest of ${person.guest_of_name}` : "guest";
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
    setText(el.querySelector(".person-name"), me ? `${person.display_name} (you)` : person.display_name);
    setText(el.querySelector(".person-role"), roleLabel(person));
    const chips = [];
    chips.push(person.online ? srOnly("online") : h("span", { class: "chip chip-away", text: "away" }));
    if (holder) chips.push(h("span", { class: "chip chip-floor", text: "has the floor" }));
    if (person.hand_raised) chips.push(h("span", { class: "chip chip-hand", text: "hand raised" }));
    if (person.muted) chips.push(h("span", { class: "chip chip-muted", text: "muted" }));
    el.querySelector(".chips").replaceChildren(...chips);
    if (personActions) personActions(el.querySelector(".person-actions"), person);
  }

  function createQueued() {
    return h("li", { class: "queued" }, h("span", { class: "queued-name" }), queueActions ? h("span", { class: "queued-actions" }) : null);
  }

  function updateQueued(el, id) {
    const me = id === state.me?.participant_id;
    setText(el.querySelector(".queued-name"), me ? "You" : store.name(id));
    if (queueActions) queueActions(el.querySelector(".queued-actions"), id);
  }

  function render() {
    if (!state.me) return;
    const people = roomPeople(state);
    reconcile(list, people, (p) => p.participant_id, createPerson, updatePerson);
    if (count) setText(count, `${people.filter((p) => p.online).length} here`);
    reconcile(queue, state.queue, (id) => id, createQueued, updateQueued);
    show(queueEmpty, state.queue.length === 0);
  }

  store.subscribe((what) => {
    if (what === "frame" || what === "connection") render();
  });
  return { render };
}
