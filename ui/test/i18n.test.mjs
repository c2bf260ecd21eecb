// Unit tests of the screen's text logic, run on the built files with `node --test ui/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MESSAGES, t, resolveLang, otherLang, formatCount } from "../dist/i18n.js";

test("every key exists in both languages, and differs where it should", () => {
  const id = Object.keys(MESSAGES.id).sort();
  const en = Object.keys(MESSAGES.en).sort();
  assert.deepEqual(id, en);
  for (const key of id) {
    assert.ok(MESSAGES.id[key].length > 0 && MESSAGES.en[key].length > 0, key);
  }
  assert.notEqual(MESSAGES.id["status.title"], MESSAGES.en["status.title"]);
});

test("Bahasa Indonesia is the default and unknown choices fall back to it", () => {
  for (const [saved, want] of [[null, "id"], ["", "id"], ["fr", "id"], ["en", "en"], ["id", "id"], ["__proto__", "id"]]) {
    assert.equal(resolveLang(saved), want, String(saved));
  }
  assert.equal(otherLang("id"), "en");
  assert.equal(otherLang("en"), "id");
});

test("a missing key shows itself instead of a blank", () => {
  assert.equal(t("id", "no.such.key"), "no.such.key");
  assert.equal(t("xx", "status.title"), "Status stasiun");
});

test("counts group digits by language", () => {
  assert.equal(formatCount("id", 83762), "83.762");
  assert.equal(formatCount("en", 83762), "83,762");
});

test("placeholders are filled, and an unknown one stays visible", () => {
  assert.equal(t("en", "age.hours", { n: 5 }), "5 h");
  assert.equal(t("id", "backlog.summary", { open: 3, unsent: 2 }), "3 belum final · 2 belum terkirim · {stuck} mengendap");
});

test("ages read in minutes, then hours, then days", async () => {
  const { formatAge } = await import("../dist/i18n.js");
  assert.equal(formatAge("id", 59), "0 mnt");
  assert.equal(formatAge("en", 3 * 3600), "3 h");
  assert.equal(formatAge("en", 47 * 3600), "47 h");
  assert.equal(formatAge("id", 3 * 86400), "3 hari");
});
