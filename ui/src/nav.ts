// The navigation's logic, free of the DOM so it can be unit-tested: which screens a role is
// offered, the keyboard map, and the figures the back-office screens show. The core checks
// every command again; this only decides what to offer.

export type Screen =
  | "home" | "record" | "handover" | "reissue" | "personalise" | "backlog" | "sync" | "export" | "report"
  | "settings" | "training";

/** The screens in the navigation's order, each with its function key and what the role must
 * be allowed (`SessionView.may`; none: anyone at the station, logged in or not). */
export const SCREENS: { screen: Screen; key: string; needs?: string; training?: boolean }[] = [
  { screen: "home", key: "F1" },
  { screen: "record", key: "F2", needs: "serve" },
  { screen: "handover", key: "F3", needs: "serve" },
  { screen: "reissue", key: "F5", needs: "serve" },
  { screen: "personalise", key: "F11", needs: "personalise" },
  { screen: "report", key: "F4", needs: "report" },
  { screen: "backlog", key: "F6" },
  { screen: "sync", key: "F7" },
  { screen: "export", key: "F8", needs: "maintain" },
  { screen: "training", key: "F9", training: true },
  { screen: "settings", key: "F10" },
];

/** The screens offered to whoever is logged in (`may` is null when nobody is). */
export function offered(may: string[] | null, training: boolean): Screen[] {
  return SCREENS.filter((s) => (!s.needs || (may ?? []).includes(s.needs)) && (!s.training || training))
    .map((s) => s.screen);
}

/** What the counter's keyboard does outside text fields: one key per screen, Alt+B the
 * language, Ctrl+P the printout on screen. */
export type Command = Screen | "lang" | "print" | null;

export function shortcut(key: string, altKey: boolean, ctrlKey = false): Command {
  if (altKey && key.toLowerCase() === "b") return "lang";
  if (ctrlKey && key.toLowerCase() === "p") return "print";
  return SCREENS.find((s) => s.key === key)?.screen ?? null;
}

/** A share as a whole percentage for a progress bar, 100 when there is nothing to do. */
export function percent(done: number, total: number): number {
  if (total <= 0) return 100;
  return Math.min(100, Math.max(0, Math.floor((done * 100) / total)));
}

/** Bytes as the export screen shows them (kB, MB, GB; the disk makers' powers of ten). */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let n = Math.max(0, bytes);
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** Seconds as minutes with one decimal, for the daily report against the SOP's standards. */
export function minutes(seconds: number): string {
  return (seconds / 60).toFixed(1);
}
