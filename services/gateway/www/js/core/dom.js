// dom.js: building the page. h() makes elements (no HTML strings, so no
// injection), field() gives every control its visible label, table() is the
// one way a list is drawn, toast() the one way a passing message is shown.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    // CSSOM, not a style attribute: the page's CSP allows no inline styles
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// The same for SVG (charts): attributes as given, children appended
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v);
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let fieldCount = 0;

// A control with its label: <label for> names it for screen readers and
// makes the text a click target. The control keeps any id it was given.
export function field(text, control, hint) {
  if (!control.id) control.id = "f" + ++fieldCount;
  const parts = [h("label", { for: control.id }, text), control];
  if (hint) {
    const hintId = control.id + "-hint";
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("span", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "field" }, parts);
}

export function toast(text, bad) {
  const el = h("div", { class: "toast" + (bad ? " bad" : ""), role: bad ? "alert" : "status" }, text);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), 5000);
}

// Replace a card's content below its heading
export function section(id, ...content) {
  const el = document.getElementById(id);
  if (!el) return;
  const title = el.querySelector("h2");
  el.replaceChildren(title, ...content);
}

// columns: [{ title, cell(row) -> node or text, num }]; a caption names the
// table for screen readers when given; rowAttrs(row), when given, gives a
// row's attributes (a class, data-)
export function table(columns, rows, empty, caption, rowAttrs) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "scroll" },
    h("table", {}, caption ? h("caption", { class: "sr-only" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.title)))),
      h("tbody", {}, rows.map((r) => h("tr", rowAttrs ? rowAttrs(r) : {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(r))))))));
}
