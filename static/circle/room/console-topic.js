// The console's topic panel: the prompt library by category, your own topic, the agenda.

import { gettext, interpolate, promptText } from "../i18n.js";
import { byId, h, reconcile, setText, show, srOnly } from "./dom.js";

export function mountTopic({ store, act }) {
  const { state } = store;

  // ------------------------------------------------------------------ topic and agenda

  const promptSelect = byId("console-prompt");
  byId("prompt-post")?.addEventListener("click", () => {
    if (promptSelect?.value) act("prompt.post", { prompt_id: Number(promptSelect.value) }, gettext("The topic is pinned."));
  });
  byId("agenda-add")?.addEventListener("click", () => {
    if (promptSelect?.value) act("agenda.add", { prompt_id: Number(promptSelect.value) }, gettext("Added to the agenda."));
  });
  byId("own-prompt")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = byId("own-prompt-text");
    const category = byId("own-prompt-category").value;
    if (!text.value.trim()) return;
    if (await act("prompt.post", { category, text: text.value.trim() }, gettext("Your topic is pinned."))) text.value = "";
  });
  byId("agenda-next")?.addEventListener("click", () => act("agenda.next", {}, gettext("The next topic on the agenda is pinned.")));

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
            gettext("Remove"),
            srOnly(` ${gettext("from the agenda")}`),
          ),
        ),
      (el, i) => {
        el.classList.toggle("is-posted", Boolean(i.posted_at));
        setText(el.querySelector(".agenda-text"), i.posted_at ? interpolate(gettext("%(text)s (posted)"), { text: promptText(i.prompt) }) : promptText(i.prompt));
      },
    );
    const left = items.filter((i) => !i.posted_at).length;
    show(byId("agenda-empty"), items.length === 0);
    const next = byId("agenda-next");
    if (next) next.disabled = left === 0 || state.session?.status === "ended";
  }

  return renderAgenda;
}
