// A patient's own goals in the room (session.state `goals` and goal.updated, which reach only the
// facilitators and that patient): each with its last review, and a goal of their own to add (goal.set).

import { gettext, interpolate } from "../i18n.js";
import { announce, byId, h, reconcile, setText, show } from "./dom.js";

export function mountMyGoals(store, socket) {
  const list = byId("my-goals");
  if (!list) return;
  const { state } = store;

  byId("my-goal-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = byId("my-goal-text");
    if (!text.value.trim() || !state.me) return;
    try {
      await socket.request("goal.set", { participant_id: state.me.participant_id, text: text.value.trim() });
      text.value = "";
      say(gettext("Your goal is added."));
    } catch (error) {
      say(error.message || gettext("That didn't work. Please try again."));
    }
  });

  function say(text) {
    setText(byId("my-goal-status"), text);
    announce(text);
  }

  function render() {
    const goals = (state.goals ?? []).filter((g) => g.status !== "dropped");
    reconcile(
      list,
      goals,
      (g) => g.goal_id,
      () => h("li", { class: "goal" }, h("span", { class: "goal-text" }), h("br"), h("small", { class: "goal-review" })),
      (el, g) => {
        setText(el.querySelector(".goal-text"), g.status === "met" ? interpolate(gettext("%(text)s (met)"), { text: g.text }) : g.text);
        const last = g.reviews.at(-1);
        setText(
          el.querySelector(".goal-review"),
          last ? interpolate(gettext("Last review: progress %(value)s of 10"), { value: last.progress }) : gettext("Not reviewed yet."),
        );
      },
    );
    show(byId("my-goals-empty"), goals.length === 0);
  }

  store.subscribe((what) => {
    if (what === "frame") render();
  });
  render();
}
