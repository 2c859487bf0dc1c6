// Small DOM helpers. Everything user-supplied goes in as text (textContent),
// never as markup; the one exception is a message's server-sanitized `html`,
// which goes through sanitize.js first.
import { pageLanguage } from "../i18n.js";

/** Create an element: h("button", {class: "x", type: "button", onclick: fn}, "text", child). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "hidden" || key === "disabled" || key === "checked" || key === "selected") el[key] = Boolean(value);
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Text visible to assistive technology only. */
export function srOnly(text) {
  return h("span", { class: "visually-hidden", text });
}

export const byId = (id) => document.getElementById(id);

export function show(el, visible) {
  if (el) el.hidden = !visible;
}

export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/**
 * Keep `container`'s children in step with `items`, reusing the element of
 * each key so focus and state survive updates. `create(item)` builds a new
 * element, `update(el, item)` refreshes one.
 */
export function reconcile(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of Array.from(container.children)) existing.set(child.dataset.key, child);
  let before = container.firstElementChild;
  for (const item of items) {
    const key = String(keyOf(item));
    let el = existing.get(key);
    if (el) existing.delete(key);
    else {
      el = create(item);
      el.dataset.key = key;
    }
    update(el, item);
    if (el !== before) container.insertBefore(el, before);
    else before = before.nextElementSibling;
  }
  for (const stale of existing.values()) stale.remove();
}

/** 160 -> "2:40" */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** An ISO time as the reader's local "14:05". */
export function localTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString(pageLanguage(), { hour: "2-digit", minute: "2-digit" });
}

let announceTimer = null;
/** Say something once through the page's polite live region. */
export function announce(text) {
  const region = byId("announcer");
  if (!region) return;
  clearTimeout(announceTimer);
  region.textContent = "";
  // A fresh text node after a tick makes screen readers read repeated messages too.
  announceTimer = setTimeout(() => {
    region.textContent = text;
  }, 50);
}
