// Unit tests of the navigation's logic, run on the built files with `node --test ui/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SCREENS, offered, shortcut, percent, formatBytes, minutes } from "../dist/nav.js";
import { MESSAGES } from "../dist/i18n.js";

test("each role is offered the screens its permissions allow", () => {
  assert.deepEqual(offered(null, false), ["home", "backlog", "sync", "settings"]);
  assert.deepEqual(offered(["serve"], false), ["home", "record", "handover", "reissue", "backlog", "sync", "settings"]);
  assert.deepEqual(offered(["personalise", "report"], false), ["home", "personalise", "report", "backlog", "sync", "settings"]);
  assert.deepEqual(offered(["maintain", "report"], false), ["home", "report", "backlog", "sync", "export", "settings"]);
  assert.ok(offered(["serve"], true).includes("training"));
  assert.ok(!offered(["serve"], false).includes("training"));
});

test("every screen has its own function key and a name in both languages naming it", () => {
  const keys = SCREENS.map((s) => s.key);
  assert.equal(new Set(keys).size, keys.length);
  for (const s of SCREENS) {
    for (const lang of ["id", "en"]) {
      const label = MESSAGES[lang][`nav.${s.screen}`];
      assert.ok(label && label.includes(`(${s.key})`), `${lang} nav.${s.screen}: ${label}`);
    }
  }
});

test("function keys open the screens, Alt+B switches the language, Ctrl+P prints", () => {
  assert.equal(shortcut("F2", false), "record");
  assert.equal(shortcut("F3", false), "handover");
  assert.equal(shortcut("F6", false), "backlog");
  assert.equal(shortcut("F8", false), "export");
  assert.equal(shortcut("b", true), "lang");
  assert.equal(shortcut("B", true), "lang");
  assert.equal(shortcut("b", false), null);
  assert.equal(shortcut("p", false, true), "print");
  assert.equal(shortcut("p", false, false), null);
  assert.equal(shortcut("F5", false), "reissue");
  assert.equal(shortcut("F11", false), "personalise");
  assert.equal(shortcut("F12", false), null);
});

test("progress is a whole percentage within 0-100, full when there is nothing to do", () => {
  assert.equal(percent(0, 0), 100);
  assert.equal(percent(1, 3), 33);
  assert.equal(percent(3, 3), 100);
  assert.equal(percent(5, 3), 100);
  assert.equal(percent(-1, 3), 0);
});

test("sizes and minutes read as the screens show them", () => {
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1500), "1.5 kB");
  assert.equal(formatBytes(2_345_678), "2.3 MB");
  assert.equal(formatBytes(64e9), "64.0 GB");
  assert.equal(minutes(90), "1.5");
});
