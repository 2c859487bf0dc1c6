// What the console tells the facilitator: crisis alerts (with resources) and participation balance.

import { gettext, interpolate, ngettext } from "../i18n.js";
import { byId, clock, h, reconcile, setText, show, srOnly } from "./dom.js";

const KIND_LABEL = {
  suicide: gettext("Possible risk of suicide"),
  self_harm: gettext("Possible risk of self-harm"),
  overdose: gettext("Possible risk of overdose"),
  relapse: gettext("Possible risk of relapse"),
};

export function mountInsight({ store }) {
  const { state } = store;

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
            h("a", { href: `#m${a.message_id}`, class: "small" }, gettext("Show the message")),
            h("button", { type: "button", class: "small link-button", onclick: () => store.dismissAlert(a.message_id) }, gettext("Dismiss"), srOnly(` ${gettext("this alert")}`)),
          ),
        ),
      (el, a) => {
        setText(el.querySelector(".alert-kind"), `${KIND_LABEL[a.kind] ?? gettext("Needs attention")}: ${store.name(a.participant_id)}`);
        setText(el.querySelector(".alert-excerpt"), a.excerpt);
      },
    );
    show(byId("alerts-empty"), state.alerts.length === 0);
    setText(byId("alert-count"), state.alerts.length ? String(state.alerts.length) : "");
    show(byId("alert-count"), state.alerts.length > 0);
    // session.state's resources are in this facilitator's language (issue 26); an alert's are the default.
    const resources = state.crisis || state.alerts[0]?.resources;
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
        const minutes = r.floor_seconds ? ` · ${interpolate(gettext("%(time)s on the floor"), { time: clock(r.floor_seconds) })}` : "";
        setText(el.querySelector(".balance-detail"), `${interpolate(ngettext("%(count)s message", "%(count)s messages", r.messages), { count: r.messages })}${minutes}`);
      },
    );
    const quiet = rows.filter((r) => r.messages === 0).map((r) => store.name(r.participant_id));
    setText(byId("not-spoken"), quiet.length ? interpolate(gettext("Not heard from yet: %(names)s"), { names: quiet.join(", ") }) : rows.length ? gettext("Everyone has written something.") : "");
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

  return () => {
    renderAlerts();
    renderBalance();
  };
}
