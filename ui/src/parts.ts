// Pieces several screens show the same way: a resident's biodata and a case's document
// checklist (the recording wizard, the handover, reissue and personalisation).

import { t, type Lang } from "./i18n.js";
import { defaultPresented, splitDocuments } from "./wizard.js";
import { el, row } from "./dom.js";
import type { BiodataView, ChecklistLine } from "./bindings.js";

/** The biodata as the resident checks it: who they are and where they live; `full` adds
 * religion, marital status and occupation (the recording's confirmation step). */
export function biodataList(lang: Lang, id: string, b: BiodataView, full = false, ...more: HTMLElement[]): HTMLElement {
  return el("dl", { class: "biodata", id },
    row("NIK", b.nik),
    row(t(lang, "bio.name"), b.name),
    row(t(lang, "bio.birth"), b.birth),
    row(t(lang, "bio.sex"), b.sex),
    row(t(lang, "bio.address"), b.address),
    ...(full
      ? [row(t(lang, "bio.religion"), b.religion),
        row(t(lang, "bio.marital"), b.marital_status),
        row(t(lang, "bio.occupation"), b.occupation)]
      : []),
    row(t(lang, "bio.citizenship"), b.citizenship),
    ...more);
}

/** The case's documents as checkboxes, the required ones ticked (the operator unticks what
 * was not presented). */
export function checklistForm(lang: Lang, id: string, lines: ChecklistLine[]): HTMLElement {
  const ticked = new Set(defaultPresented(lines));
  return el("ul", { class: "checklist", id },
    ...lines.map((l) => {
      const box = el("input", { type: "checkbox", value: l.document, id: `doc-${l.document}` }) as HTMLInputElement;
      box.checked = ticked.has(l.document);
      const need = l.required ? t(lang, "doc.required") : `${t(lang, "doc.ifApplicable")}: ${l.condition}`;
      return el("li", {}, el("label", {}, box, ` ${l.label} `, el("small", {}, `(${need})`)));
    }));
}

/** What is ticked on a [`checklistForm`], as the core takes it. */
export function tickedDocuments(form: HTMLElement, lines: ChecklistLine[]): { presented: string[]; applicable: string[] } {
  const ticked = [...form.querySelectorAll<HTMLInputElement>("input:checked")].map((b) => b.value);
  return splitDocuments(ticked, lines);
}
