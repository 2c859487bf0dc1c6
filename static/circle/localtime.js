// Show server times (<time datetime="..." data-local="datetime|date">) in the reader's own time zone,
// in the page's language.
import { pageLanguage } from "./i18n.js";

const formats = {
  datetime: { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" },
  date: { weekday: "short", day: "numeric", month: "short" },
  time: { hour: "2-digit", minute: "2-digit" },
};

for (const el of document.querySelectorAll("time[data-local]")) {
  const date = new Date(el.getAttribute("datetime"));
  const format = formats[el.dataset.local];
  if (!Number.isNaN(date.getTime()) && format) el.textContent = date.toLocaleString(pageLanguage(), format);
}
