// Unit tests of the wizard's logic, run on the built files with `node --test ui/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { STEPS, stepState, CAPTURE_STEPS, PREVIEW, fingerName, defaultPresented, splitDocuments } from "../dist/wizard.js";
import { MESSAGES } from "../dist/i18n.js";
import { STEP_LABELS } from "../dist/bindings.js";

test("the steps follow the SOP's order and each has a name in both languages", () => {
  assert.deepEqual(STEPS.slice(0, 4), ["documents", "biodata", "eligibility", "photo"]);
  assert.ok(STEPS.indexOf("fingers") < STEPS.indexOf("irises"));
  assert.ok(STEPS.indexOf("irises") < STEPS.indexOf("index_verification"));
  assert.equal(STEPS.at(-1), "seal");
  for (const s of [...STEPS, "ended"]) {
    assert.ok(STEP_LABELS[s].id && STEP_LABELS[s].en, s);
  }
});

test("a step is done, current or to do against the current one", () => {
  assert.equal(stepState("documents", "photo"), "done");
  assert.equal(stepState("photo", "photo"), "current");
  assert.equal(stepState("seal", "photo"), "todo");
  assert.equal(stepState("seal", "ended"), "done");
});

test("every capture step sends its own action and has a labelled button", () => {
  const actions = Object.values(CAPTURE_STEPS).map((c) => c.action);
  assert.equal(new Set(actions).size, actions.length);
  assert.equal(CAPTURE_STEPS.index_verification.action, "verify");
  for (const c of Object.values(CAPTURE_STEPS)) assert.ok(MESSAGES.id[c.label] && MESSAGES.en[c.label], c.label);
  assert.equal(CAPTURE_STEPS.documents, undefined);
});

test("fingers are named by ISO position", () => {
  assert.equal(fingerName("id", 2), "telunjuk kanan");
  assert.equal(fingerName("en", 7), "left index");
  assert.equal(fingerName("en", 11), "11");
});

test("the required documents are ticked by default, conditional ones are not", () => {
  const list = [
    { document: "family_card_copy", required: true },
    { document: "old_ktp", required: false },
    { document: "application_form", required: true },
  ];
  assert.deepEqual(defaultPresented(list), ["family_card_copy", "application_form"]);
});

test("the steps that use a camera or the scanner preview that device, and only those", () => {
  for (const [step, device] of Object.entries(PREVIEW)) {
    assert.ok(CAPTURE_STEPS[step], `${step} is a capture step`);
    assert.ok(["face", "finger", "iris"].includes(device), device);
  }
  assert.equal(PREVIEW.photo, "face");
  assert.equal(PREVIEW.irises, "iris");
  assert.equal(PREVIEW.operator_finger, "finger");
  // The pad and the station's own work have no stream.
  for (const step of ["signature", "statement", "dedup", "seal"]) assert.equal(PREVIEW[step], undefined, step);
});

test("ticked documents split into the required ones presented and the conditional ones that apply", () => {
  const checklist = [
    { document: "family_card_copy", required: true },
    { document: "rt_rw_cover_letter", required: true },
    { document: "old_ktp", required: false },
  ];
  assert.deepEqual(splitDocuments(["family_card_copy", "old_ktp"], checklist),
    { presented: ["family_card_copy"], applicable: ["old_ktp"] });
  assert.deepEqual(splitDocuments([], checklist), { presented: [], applicable: [] });
});
