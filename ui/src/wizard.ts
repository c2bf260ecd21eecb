// The recording wizard's logic, free of the DOM so it can be unit-tested: the SOP's order of
// steps, what the main button does at each step, the keyboard map. The core decides; this only
// says what to ask it next.

import { FINGER_LABELS, STEPS, type Step } from "./bindings.js";

/** The steps the core reports, in the SOP's order (`rekam::workflow::recording::Step::ALL`,
 * generated into bindings.ts). */
export { STEPS };

export type StepName = Step;

/** Where a step stands against the current one, for the step list. */
export function stepState(step: StepName, current: StepName): "done" | "current" | "todo" {
  if (current === "ended") return "done";
  const a = STEPS.indexOf(step);
  const b = STEPS.indexOf(current);
  return a < b ? "done" : a === b ? "current" : "todo";
}

/** The steps done by pressing the main button, with the action sent to the core and the
 * button's text key. Documents, biodata and confirmation have their own forms. */
export const CAPTURE_STEPS: Partial<Record<StepName, { action: string; label: string }>> = {
  photo: { action: "photo", label: "cap.photo" },
  signature: { action: "signature", label: "cap.signature" },
  fingers: { action: "fingers", label: "cap.fingers" },
  irises: { action: "irises", label: "cap.irises" },
  index_verification: { action: "verify", label: "cap.verify" },
  dedup: { action: "dedup", label: "cap.dedup" },
  statement: { action: "statement", label: "cap.statement" },
  operator_finger: { action: "operator_finger", label: "cap.operator" },
  seal: { action: "seal", label: "cap.seal" },
};

/** The device whose live preview (the SBI stream) a capture step shows. */
export const PREVIEW: Partial<Record<StepName, "face" | "finger" | "iris">> = {
  photo: "face",
  fingers: "finger",
  irises: "iris",
  index_verification: "finger",
  operator_finger: "finger",
};

/** A finger position's name, or the number itself for an unknown one. */
export function fingerName(lang: "id" | "en", code: number): string {
  return FINGER_LABELS[code]?.[lang] ?? String(code);
}

/** One line of a case's document checklist, as the shell sends it. */
export type { ChecklistLine } from "./bindings.js";

/** The documents to tick by default: the case's required ones (the operator unticks what is
 * not presented). */
export function defaultPresented(checklist: { document: string; required: boolean }[]): string[] {
  return checklist.filter((l) => l.required).map((l) => l.document);
}

/** Ticked documents as the core takes them: the required ones presented, and the conditional
 * ones that apply. */
export function splitDocuments(ticked: string[], checklist: { document: string; required: boolean }[]): { presented: string[]; applicable: string[] } {
  const required = new Set(checklist.filter((l) => l.required).map((l) => l.document));
  return {
    presented: ticked.filter((d) => required.has(d)),
    applicable: ticked.filter((d) => !required.has(d)),
  };
}
