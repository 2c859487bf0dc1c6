// Defence in depth for a message's `html`. The server already sanitizes it
// (rooms/sanitize.py: escaped text, http/https links, <br>); this rebuilds the
// fragment from scratch keeping exactly that much, so even a server bug could
// not put a script, a handler or a style on the page.

const parser = new DOMParser();

function safeHref(raw) {
  try {
    const url = new URL(raw, "https://invalid.example/");
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function rebuild(node, into) {
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) {
      into.append(document.createTextNode(child.data));
    } else if (child.nodeType === Node.ELEMENT_NODE) {
      const tag = child.tagName;
      if (tag === "BR") {
        into.append(document.createElement("br"));
      } else if (tag === "A" && safeHref(child.getAttribute("href") || "") && child.getAttribute("href").match(/^https?:/i)) {
        const link = document.createElement("a");
        link.href = safeHref(child.getAttribute("href"));
        link.rel = "nofollow noopener noreferrer";
        link.target = "_blank";
        rebuild(child, link);
        into.append(link);
      } else if (tag !== "SCRIPT" && tag !== "STYLE" && tag !== "TEMPLATE") {
        rebuild(child, into); // keep the words, drop the element
      }
    }
  }
}

/** A DocumentFragment holding only text, <br> and http(s) links. */
export function messageBody(html) {
  // DOMParser documents are inert: nothing in them runs or loads.
  const doc = parser.parseFromString(`<body>${html}</body>`, "text/html");
  const fragment = document.createDocumentFragment();
  rebuild(doc.body, fragment);
  return fragment;
}
