// The scripts' strings in the page's language: the catalogue Django's JavaScriptCatalog
// serves at /jsi18n/ (base.html loads it before any module), read through these names so
// that `makemessages -d djangojs` finds every string. Without the catalogue (a test page
// that does not load it) each string is shown as written, in English.
const catalogue = globalThis.django;

export const gettext = (text) => (catalogue ? catalogue.gettext(text) : text);
export const ngettext = (singular, plural, count) =>
  catalogue ? catalogue.ngettext(singular, plural, count) : count === 1 ? singular : plural;
// interpolate("%(name)s is muted", {name}, true): named placeholders, as Django's own.
export const interpolate = (format, values) => format.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
// The page's language (<html lang>), for dates and numbers (Intl).
export const pageLanguage = () => document.documentElement.lang || "en";
// A prompt in the page's language: a library prompt carries `texts` per language
// (docs/protocol.md); a custom one only the `text` it was typed with.
export const promptText = (prompt) => prompt?.texts?.[pageLanguage()] || prompt?.text || "";
