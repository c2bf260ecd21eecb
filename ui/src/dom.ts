// Small DOM helpers shared by the screens.

type Child = Node | string;

/** An element with attributes and children. */
export function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

/** A button that runs `onClick`. */
export function button(id: string, text: string, onClick: () => void, cls = ""): HTMLButtonElement {
  const b = el("button", { type: "button", id, class: cls }, text) as HTMLButtonElement;
  b.addEventListener("click", onClick);
  return b;
}

/** One line of a definition list. */
export function row(label: string, value: string): HTMLElement {
  return el("div", { class: "row" }, el("dt", {}, label), el("dd", {}, value));
}

/** The screen's main area. */
export function main(): HTMLElement {
  return document.getElementById("main") as HTMLElement;
}

/** A table with a header row. */
export function table(id: string, head: string[], rows: Child[][], rowClass: (i: number) => string = () => ""): HTMLElement {
  return el("table", { id },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((cells, i) => el("tr", { class: rowClass(i) }, ...cells.map((c) => el("td", {}, c))))));
}
