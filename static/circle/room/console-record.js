// The console's goals panel (every session) and, in an individual session, the motivational-interviewing
// extras: the readiness ruler (importance and confidence, sent with a goal review) and the individual
// prompts (withdrawal, motivation). Also the time left of the session's length, in every session.
// Goals come from session.state `goals` and `goal.updated` (the server sends them to the facilitators
// and that patient only).

import { gettext, interpolate } from "../i18n.js";
import { byId, h, reconcile, setText, show } from "./dom.js";

export function mountRecord({ store, act }) {
  const { state } = store;
  const panel = byId("panel-goals");
  if (!panel) return () => {};

  const patientSelect = byId("goal-patient");
  const goalSelect = byId("review-goal");
  const list = byId("goal-list");

  byId("goal-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = byId("goal-text");
    const why = byId("goal-why");
    const participant = Number(patientSelect.value);
    if (!participant || !text.value.trim()) return;
    const fields = { participant_id: participant, text: text.value.trim() };
    if (why.value.trim()) fields.why = why.value.trim();
    if (await act("goal.set", fields, gettext("The goal is set."))) {
      text.value = "";
      why.value = "";
    }
  });

  byId("review-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const goal = Number(goalSelect.value);
    if (!goal) return;
    const fields = { goal_id: goal, progress: scale("review-progress") };
    for (const name of ["importance", "confidence"]) {
      const value = byId(`review-${name}`)?.value;
      if (value !== "" && value !== undefined) fields[name] = scale(`review-${name}`);
    }
    const note = byId("review-note");
    if (note.value.trim()) fields.note = note.value.trim();
    if (await act("goal.review", fields, gettext("The review is saved."))) note.value = "";
  });

  byId("mi-prompt-post")?.addEventListener("click", () => {
    const chosen = byId("mi-prompt")?.value;
    if (chosen) act("prompt.post", { prompt_id: Number(chosen) }, gettext("The topic is pinned."));
  });

  function patients() {
    return [...state.people.values()].filter((p) => p.role === "patient");
  }

  function renderChoices(select, items, valueOf, labelOf) {
    const chosen = select.value;
    select.replaceChildren(...items.map((item) => h("option", { value: String(valueOf(item)), text: labelOf(item) })));
    if (items.some((item) => String(valueOf(item)) === chosen)) select.value = chosen;
  }

  function reviewLine(goal) {
    const last = goal.reviews.at(-1);
    if (!last) return gettext("Not reviewed yet.");
    const parts = [interpolate(gettext("progress %(value)s/10"), { value: last.progress })];
    if (last.importance !== null) parts.push(interpolate(gettext("importance %(value)s/10"), { value: last.importance }));
    if (last.confidence !== null) parts.push(interpolate(gettext("confidence %(value)s/10"), { value: last.confidence }));
    return interpolate(gettext("Last review: %(figures)s"), { figures: parts.join(", ") });
  }

  function render() {
    const goals = (state.goals ?? []).filter((g) => g.status !== "dropped");
    renderChoices(patientSelect, patients(), (p) => p.participant_id, (p) => p.display_name);
    renderChoices(goalSelect, goals, (g) => g.goal_id, (g) => `${store.name(g.participant_id)}: ${g.text}`);
    reconcile(
      list,
      goals,
      (g) => g.goal_id,
      () => h("li", { class: "goal" }, h("strong", { class: "goal-who" }), h("span", { class: "goal-text" }), h("br"), h("small", { class: "goal-review" })),
      (el, g) => {
        setText(el.querySelector(".goal-who"), `${store.name(g.participant_id)}: `);
        setText(el.querySelector(".goal-text"), g.status === "active" ? g.text : interpolate(gettext("%(text)s (%(status)s)"), { text: g.text, status: statusWord(g.status) }));
        setText(el.querySelector(".goal-review"), reviewLine(g));
      },
    );
    show(byId("goals-empty"), goals.length === 0);
    byId("review-form").hidden = goals.length === 0;
  }

  return render;
}

function statusWord(status) {
  return { active: gettext("active"), met: gettext("met"), revised: gettext("revised"), dropped: gettext("dropped") }[status] ?? status;
}

function scale(id) {
  const value = Math.round(Number(byId(id)?.value));
  return Number.isFinite(value) ? Math.min(10, Math.max(0, value)) : 0;
}

/** The time left of the session's scheduled length, refreshed every 15 seconds; a quiet notice once it runs over. */
export function mountTimeLeft(store) {
  const line = byId("time-left");
  if (!line) return;
  function tick() {
    const session = store.state.session;
    if (!session || session.status !== "live") {
      line.hidden = true;
      return;
    }
    line.hidden = false;
    const minutes = Math.round((Date.parse(session.ends_at) - Date.now()) / 60000);
    const over = minutes < 0;
    line.classList.toggle("over", over);
    setText(
      line,
      over
        ? interpolate(gettext("The session's time is up: %(minutes)s min over."), { minutes: -minutes })
        : interpolate(gettext("%(minutes)s min left of the session's %(length)s."), {
            minutes,
            length: interpolate(gettext("%(total)s min"), {
              total: Math.round((Date.parse(session.ends_at) - Date.parse(session.starts_at)) / 60000),
            }),
          }),
    );
  }
  tick();
  store.subscribe((what) => {
    if (what === "frame") tick();
  });
  setInterval(tick, 15000);
}
