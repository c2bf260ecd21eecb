// The screens besides the recording wizard: the handover, sync progress, the technician's
// export, the daily report and the settings. Like the rest of the screen, they only show what
// the core returns.

import { t, formatCount, type Lang } from "./i18n.js";
import { percent, formatBytes, minutes } from "./nav.js";
import { el, button, row, main, table } from "./dom.js";
import { biodataList } from "./parts.js";
import { HANDOVER_STEP_LABELS } from "./bindings.js";
import type { Commands, DailyReport, ExportProgress, ImportProgress, HandoverView, SettingsView, StepLine, SyncView, Target } from "./bindings.js";

type Json = any; // what arrives untyped: the shell's global object, its events, a rejection

/** What a screen needs from the app around it. */
export interface Ctx {
  lang: Lang;
  call: <K extends keyof Commands>(cmd: K, args?: Record<string, unknown>) => Promise<Commands[K]>;
  working: <T>(what: string, run: () => Promise<T>) => Promise<T | undefined>;
  showError: (err: Json) => void;
  /** Draws the current screen again. */
  go: () => void;
}

const tauri = (window as Json).__TAURI__;

/** Work to stop when the operator leaves the screen (a refresh timer, an event listener). */
let cleanups: (() => void)[] = [];

export function leave(): void {
  for (const f of cleanups) f();
  cleanups = [];
}

function yesNo(lang: Lang, v: boolean): string {
  return t(lang, v ? "common.yes" : "common.no");
}

function localTime(lang: Lang, rfc3339: string): string {
  return new Date(rfc3339).toLocaleString(lang === "id" ? "id-ID" : "en-GB");
}

// ----- handover --------------------------------------------------------------------------------

export async function renderHandover(ctx: Ctx): Promise<void> {
  const view = await ctx.call("handover_current").catch((err) => {
    ctx.showError(err);
    return null;
  });
  drawHandover(ctx, view);
}

async function handoverAct(ctx: Ctx, action: Record<string, unknown>): Promise<void> {
  const view = await ctx.working(t(ctx.lang, "wizard.working"), () => ctx.call("handover", { action }));
  if (view) return drawHandover(ctx, view);
  // A refusal ends the visit: show what the core kept of it, under the error.
  const current = await ctx.call("handover_current").catch(() => null);
  if (current?.refused) {
    const err = document.getElementById("error");
    drawHandover(ctx, current);
    if (err) main().prepend(err);
  }
}

const HANDOVER_STEPS = ["card", "chip_data", "handover_verification", "receipt"];

function drawHandover(ctx: Ctx, view: HandoverView | null): void {
  const { lang } = ctx;
  const title = el("h2", {}, t(lang, "handover.title"));
  if (!view) {
    const queue = el("input", { id: "handover-queue", autocomplete: "off", placeholder: "A-001" }) as HTMLInputElement;
    const form = el("form", { class: "card", id: "handover-form" },
      el("p", { class: "hint" }, t(lang, "handover.hint")),
      el("label", {}, t(lang, "handover.queue"), queue),
      el("button", { type: "submit", id: "handover-start", class: "primary" }, t(lang, "handover.start")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      handoverAct(ctx, { action: "start", queue_number: queue.value.trim() || null });
    });
    main().replaceChildren(title, form);
    queue.focus();
    return;
  }
  const at = HANDOVER_STEPS.indexOf(view.step);
  const steps = el("ol", { class: "steps", id: "handover-steps" },
    ...HANDOVER_STEPS.map((s, i) => el("li", {
      class: view.step === "ended" || i < at ? "done" : i === at ? "current" : "todo",
    }, HANDOVER_STEP_LABELS[s]?.[lang] ?? s)));
  const panel = el("section", { class: "card panel", id: "panel" },
    el("h3", { id: "step-title" }, HANDOVER_STEP_LABELS[view.step]?.[lang] ?? view.step));
  main().replaceChildren(title, el("div", { class: "wizard" }, steps, panel));
  if (view.biodata) panel.append(biodataList(lang, "chip-biodata", view.biodata));
  if (view.scores) panel.append(el("p", { id: "handover-scores" }, `${t(lang, "cap.score")}: ${view.scores[0]} / ${view.scores[1]}`));
  const next = button("next-handover", t(lang, "handover.next"), async () => {
    await ctx.call("handover_close").catch(() => undefined);
    drawHandover(ctx, null);
  }, "primary");
  let primary: HTMLElement | null = null;
  if (view.refused) {
    panel.append(el("div", { class: "refused", id: "refused" },
      el("strong", {}, t(lang, "handover.notHanded")),
      el("p", {}, view.refused.message),
      el("p", { class: "code" }, view.refused.code)), next);
    primary = next;
  } else if (view.handed_over) {
    const h = view.handed_over;
    panel.append(el("article", { class: "letter", id: "handed-over" },
      el("h3", {}, t(lang, "handover.done")),
      el("dl", {},
        row(t(lang, "handover.serial"), h.card_serial),
        row(t(lang, "handover.verification"), h.verification),
        row(t(lang, "handover.receipt"), t(lang, "handover.receiptBody", { kb: Math.round(h.receipt_bytes / 1024) })))),
    next);
    primary = next;
  } else if (view.step === "card") {
    panel.append(el("p", { class: "hint" }, t(lang, "handover.cardHint")));
    primary = button("card-read", t(lang, "handover.read"), () => handoverAct(ctx, { action: "read_card" }), "primary");
    panel.append(primary);
  } else if (view.step === "chip_data") {
    panel.append(el("p", { class: "hint" }, t(lang, "handover.chipHint")));
    primary = button("chip-confirm", t(lang, "bio.confirm"), () => handoverAct(ctx, { action: "confirm", confirmed: true }), "primary");
    panel.append(primary, " ", button("chip-reject", t(lang, "bio.reject"), () => handoverAct(ctx, { action: "confirm", confirmed: false })));
  } else if (view.step === "handover_verification") {
    panel.append(el("p", { class: "hint" }, t(lang, "handover.verifyHint")));
    primary = button("handover-verify", t(lang, "cap.verify"), () => handoverAct(ctx, { action: "verify" }), "primary");
    panel.append(primary, dispensationForm(ctx));
  } else if (view.step === "receipt") {
    const old = el("input", { type: "checkbox", id: "old-ktp" }) as HTMLInputElement;
    panel.append(el("label", {}, old, ` ${t(lang, "handover.oldKtp")}`));
    primary = button("receipt-sign", t(lang, "handover.sign"), () => handoverAct(ctx, { action: "receipt", old_ktp_withdrawn: old.checked }), "primary");
    panel.append(el("p", {}, primary));
  }
  primary?.focus();
}

function dispensationForm(ctx: Ctx): HTMLElement {
  const { lang } = ctx;
  const sup = el("input", { id: "disp-supervisor", autocomplete: "off" }) as HTMLInputElement;
  const pw = el("input", { id: "disp-password", type: "password" }) as HTMLInputElement;
  const old = el("input", { type: "checkbox", id: "disp-old-ktp" }) as HTMLInputElement;
  const submit = button("disp-submit", t(lang, "handover.dispensation"), () => {
    const password = pw.value;
    pw.value = "";
    handoverAct(ctx, { action: "dispensation", supervisor_id: sup.value.trim(), password, old_ktp_surrendered: old.checked });
  });
  return el("details", { class: "exception", id: "dispensation" },
    el("summary", {}, t(lang, "handover.dispensation")),
    el("p", { class: "hint" }, t(lang, "handover.dispensationHint")),
    el("label", {}, t(lang, "exc.supervisor"), sup),
    el("label", {}, t(lang, "exc.password"), pw),
    el("p", { class: "hint" }, t(lang, "exc.fingerHint")),
    el("label", {}, old, ` ${t(lang, "handover.oldKtpSurrendered")}`),
    submit);
}

// ----- sync progress ---------------------------------------------------------------------------

/** When "send now" was last pressed (ms since the epoch): its note stays until a later pass. */
let syncAskedAt = 0;

export async function renderSync(ctx: Ctx): Promise<void> {
  const draw = async () => {
    let v: SyncView;
    try {
      v = await ctx.call("sync_status");
    } catch (err) {
      main().replaceChildren(el("h2", {}, t(ctx.lang, "sync.title")));
      ctx.showError(err);
      return;
    }
    drawSync(ctx, v);
  };
  await draw();
  // The background sync works on its own; the screen follows it while it is open.
  const timer = window.setInterval(draw, 2000);
  cleanups.push(() => window.clearInterval(timer));
}

function drawSync(ctx: Ctx, v: SyncView): void {
  const { lang } = ctx;
  const pass = v.last_pass;
  const waitingForAsked = syncAskedAt > 0 && (!pass || Date.parse(pass.at) < syncAskedAt);
  const sendNow = v.running
    ? el("section", { class: "card" },
      el("p", { class: "hint" }, t(lang, "sync.nowHint")),
      button("sync-now", t(lang, "sync.now"), () => {
        const at = Date.now(); // before the pass can start, so that its report is later
        ctx.call("sync_now").then(() => {
          syncAskedAt = at;
          ctx.go();
        }, ctx.showError);
      }, "primary"),
      ...(waitingForAsked ? [el("p", { id: "sync-asked" }, t(lang, "sync.asked"))] : []))
    : "";
  const share = percent(v.at_dc, v.total);
  const status = !v.dc_url
    ? t(lang, "sync.off")
    : v.running ? t(lang, "sync.running", { url: v.dc_url }) : t(lang, "sync.notRunning", { url: v.dc_url });
  const last = pass
    ? el("dl", { id: "sync-last" },
      row(t(lang, "sync.lastAt"), localTime(lang, pass.at)),
      row(t(lang, "sync.link"), pass.report.link_up ? t(lang, "sync.linkUp") : t(lang, "sync.linkDown")),
      row(t(lang, "sync.sent"), String(pass.report.sent)),
      row(t(lang, "sync.failed"), String(pass.report.failed)),
      row(t(lang, "sync.results"), String(pass.report.results)),
      row(t(lang, "sync.remaining"), String(pass.report.remaining)),
      ...(pass.report.error ? [row(t(lang, "sync.error"), `${pass.report.error[0]}: ${v.last_pass_next ?? ""}`)] : []),
      ...(pass.report.hub ? [row(t(lang, "sync.hub"), pass.report.hub.error
        ? t(lang, "sync.hubDown", { code: pass.report.hub.error, pending: pass.report.hub.pending })
        : t(lang, "sync.hubUp", { pending: pass.report.hub.pending }))] : []))
    : el("p", { id: "sync-last" }, t(lang, "sync.never"));
  // A person recorded at two counters: what the kecamatan server found, for the supervisor.
  const conflicts = v.hub
    ? el("section", { class: "card", id: "hub-conflicts" },
      el("h3", {}, t(lang, "sync.conflicts")),
      ...(v.hub_conflicts.length === 0
        ? [el("p", { class: "hint" }, t(lang, "sync.noConflicts"))]
        : v.hub_conflicts.map((c) => el("p", { class: "warn" }, `#${c.id} ${c.text}`))))
    : "";
  main().replaceChildren(
    el("h2", {}, t(lang, "sync.title")),
    el("p", { id: "sync-state", class: pass && !pass.report.link_up ? "warn" : "" }, status),
    sendNow,
    el("section", { class: "card" },
      el("h3", {}, t(lang, "sync.progress")),
      el("progress", { id: "sync-progress", max: "100", value: String(share) }),
      el("p", { id: "sync-share" }, t(lang, "sync.share", { done: formatCount(lang, v.at_dc), total: formatCount(lang, v.total), pct: share, exported: v.exported }))),
    el("section", { class: "card" }, el("h3", {}, t(lang, "sync.last")), last),
    conflicts,
    el("section", { class: "card" },
      el("h3", {}, t(lang, "sync.byState")),
      table("sync-states", [t(lang, "backlog.col.state"), t(lang, "report.count")],
        Object.entries(v.by_state).map(([s, n]) => [s, String(n)]))));
}

/** Shows a long command's `event` progress in `bar` and `text` until the returned function is
 * called (or the operator leaves the screen). */
async function onProgress<P extends { done: number; total: number }>(
  event: string, bar: HTMLProgressElement, text: HTMLElement, say: (p: P) => string,
): Promise<() => void> {
  const unlisten: () => void = tauri?.event
    ? await tauri.event.listen(event, (ev: { payload: P }) => {
      bar.value = percent(ev.payload.done, ev.payload.total);
      text.textContent = say(ev.payload);
    })
    : () => undefined;
  cleanups.push(unlisten);
  return unlisten;
}

// ----- the technician's export -----------------------------------------------------------------

export async function renderExport(ctx: Ctx): Promise<void> {
  const { lang } = ctx;
  const targets: Target[] = await ctx.call("export_targets").catch((err) => {
    ctx.showError(err);
    return [];
  });
  const to = el("input", { id: "export-to", autocomplete: "off", size: "48" }) as HTMLInputElement;
  if (targets.length > 0) to.value = targets[0].path;
  const list = targets.length === 0
    ? el("p", { class: "hint", id: "export-no-disk" }, t(lang, "export.noDisk"))
    : el("ul", { id: "export-targets" }, ...targets.map((d, i) =>
      el("li", {}, button(`export-target-${i}`, `${d.path} · ${t(lang, "export.free", { free: formatBytes(d.free_bytes), total: formatBytes(d.total_bytes) })}`,
        () => { to.value = d.path; to.focus(); }))));
  const bar = el("progress", { id: "export-progress", max: "100", value: "0", hidden: "" }) as HTMLProgressElement;
  const barText = el("p", { id: "export-progress-text", role: "status" });
  const result = el("div", { id: "export-result" });
  const run = el("button", { type: "submit", id: "export-run", class: "primary" }, t(lang, "export.run"));
  const form = el("form", { class: "card", id: "export-form" },
    el("h3", {}, t(lang, "export.step1")), list,
    el("h3", {}, t(lang, "export.step2")), el("label", {}, t(lang, "export.to"), to),
    el("h3", {}, t(lang, "export.step3")), run, bar, barText, result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    bar.hidden = false;
    bar.value = 0;
    result.replaceChildren();
    const unlisten = await onProgress<ExportProgress>("export-progress", bar, barText, (p) =>
      t(lang, "export.progress", { done: p.done, total: p.total, bytes: formatBytes(p.bytes) }));
    const r = await ctx.working(t(lang, "export.working"), () => ctx.call("export", { to: to.value }));
    unlisten();
    if (!r) return;
    bar.value = 100;
    result.replaceChildren(el("article", { class: "letter", id: "export-done" },
      el("h3", {}, t(lang, "export.done", { n: r.packets })),
      el("dl", {},
        row(t(lang, "export.bundle"), r.bundle),
        row(t(lang, "export.size"), formatBytes(r.bytes)),
        row(t(lang, "export.written"), String(r.written)),
        row(t(lang, "export.reissues"), String(r.reissues)),
        row(t(lang, "export.signed"), yesNo(lang, r.signed))),
      el("p", { class: "hint" }, t(lang, "export.after"))));
  });
  main().replaceChildren(el("h2", {}, t(lang, "export.title")), el("p", { class: "hint" }, t(lang, "export.hint")), form, receiptsForm(ctx), populationForm(ctx));
  to.focus();
}

function receiptsForm(ctx: Ctx): HTMLElement {
  const { lang } = ctx;
  const file = el("input", { id: "receipts-file", autocomplete: "off", size: "48", placeholder: "/media/…/receipts.json" }) as HTMLInputElement;
  const result = el("div", { id: "receipts-result" });
  const form = el("form", { class: "card", id: "receipts-form" },
    el("h3", {}, t(lang, "receipts.title")),
    el("p", { class: "hint" }, t(lang, "receipts.hint")),
    el("label", {}, t(lang, "receipts.file"), file),
    el("button", { type: "submit", id: "receipts-import" }, t(lang, "receipts.import")),
    result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await ctx.working(t(lang, "wizard.working"), () => ctx.call("import_receipts", { file: file.value }));
    if (!r) return;
    result.replaceChildren(el("dl", { id: "receipts-done" },
      row(t(lang, "receipts.accepted"), String(r.accepted)),
      row(t(lang, "receipts.already"), String(r.already)),
      row(t(lang, "receipts.invalid"), String(r.invalid.length)),
      row(t(lang, "receipts.refused"), String(r.refused_by_dc.length)),
      row(t(lang, "receipts.reissues"), String(r.reissues_answered))));
  });
  return form;
}

/** The Dinas's population extract from a removable disk, with a progress bar. The extracts
 * found on the mounted disks are offered; another path can be typed. */
function populationForm(ctx: Ctx): HTMLElement {
  const { lang } = ctx;
  const file = el("input", { id: "population-file", autocomplete: "off", size: "48", placeholder: "/media/…/ekstrak-32.73.01.rkp" }) as HTMLInputElement;
  const found = el("ul", { id: "population-found" });
  ctx.call("population_files").then((files) => {
    if (files.length > 0 && !file.value) file.value = files[0];
    found.replaceChildren(...files.map((f, i) =>
      el("li", {}, button(`population-found-${i}`, f, () => { file.value = f; file.focus(); }))));
  }).catch(() => undefined);
  const bar = el("progress", { id: "population-progress", max: "100", value: "0", hidden: "" }) as HTMLProgressElement;
  const barText = el("p", { id: "population-progress-text", role: "status" });
  const result = el("div", { id: "population-result" });
  const form = el("form", { class: "card", id: "population-form" },
    el("h3", {}, t(lang, "pop.import.title")),
    el("p", { class: "hint" }, t(lang, "pop.import.hint")),
    found,
    el("label", {}, t(lang, "pop.import.file"), file),
    el("button", { type: "submit", id: "population-import" }, t(lang, "pop.import.run")),
    bar, barText, result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    bar.hidden = false;
    bar.value = 0;
    result.replaceChildren();
    const unlisten = await onProgress<ImportProgress>("population-progress", bar, barText, (p) =>
      t(lang, "pop.import.progress", { done: formatCount(lang, p.done), total: formatCount(lang, p.total) }));
    const r = await ctx.working(t(lang, "pop.import.working"), () => ctx.call("population_import", { file: file.value }));
    unlisten();
    if (!r) return;
    bar.value = 100;
    result.replaceChildren(el("p", { class: "ok", id: "population-done" },
      t(lang, "pop.import.done", { sequence: r.sequence, residents: formatCount(lang, r.residents) })));
  });
  return form;
}

// ----- the daily report ------------------------------------------------------------------------

export async function renderReport(ctx: Ctx, day?: string): Promise<void> {
  const { lang } = ctx;
  let r: DailyReport;
  try {
    r = await ctx.call("daily_report", { day: day ?? null });
  } catch (err) {
    main().replaceChildren(el("h2", {}, t(lang, "report.title")));
    ctx.showError(err);
    return;
  }
  const pick = el("input", { type: "date", id: "report-day", value: r.day }) as HTMLInputElement;
  pick.addEventListener("change", () => renderReport(ctx, pick.value));
  const std = (s: StepLine) => (s.standard_seconds == null ? "–" : minutes(s.standard_seconds));
  const outcomes = (m: Record<string, number | undefined>) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(" · ");
  main().replaceChildren(
    el("h2", {}, t(lang, "report.title")),
    el("p", {}, el("label", {}, t(lang, "report.day"), pick), " ",
      button("print", t(lang, "sealed.print"), () => window.print())),
    el("section", { class: "card" },
      el("h3", {}, t(lang, "report.steps")),
      table("report-steps",
        ["step", "visits", "median", "max", "standard", "within"].map((c) => t(lang, `report.col.${c}`)),
        r.steps.map((s) => [s.step, String(s.visits), minutes(s.median_seconds), minutes(s.max_seconds), std(s), `${s.within_standard}/${s.visits}`]),
        (i) => (r.steps[i].within_standard < r.steps[i].visits ? "late" : ""))),
    el("section", { class: "cards" },
      el("article", { class: "card", id: "report-visits" },
        el("h3", {}, t(lang, "report.visits")),
        el("dl", {}, ...Object.entries(r.visits).map(([w, m]) => row(w, outcomes(m))))),
      el("article", { class: "card", id: "report-refusals" },
        el("h3", {}, t(lang, "report.refusals")),
        Object.keys(r.refusals).length === 0
          ? el("p", {}, "–")
          : el("dl", {}, ...Object.entries(r.refusals).map(([code, n]) => row(code, String(n))))),
      el("article", { class: "card", id: "report-backlog" },
        el("h3", {}, t(lang, "backlog.title")),
        el("dl", {},
          row(t(lang, "report.backlog"), String(r.backlog)),
          row(t(lang, "backlog.stuck"), String(r.stuck)),
          ...Object.entries(r.sync_states).map(([s, n]) => row(s, String(n)))))));
  pick.focus();
}

// ----- settings --------------------------------------------------------------------------------

export async function renderSettings(ctx: Ctx): Promise<void> {
  const { lang } = ctx;
  let s: SettingsView;
  try {
    s = await ctx.call("settings");
  } catch (err) {
    main().replaceChildren(el("h2", {}, t(lang, "settings.title")));
    ctx.showError(err);
    return;
  }
  const none = t(lang, "settings.none");
  const space = s.station.space
    ? t(lang, "export.free", { free: formatBytes(s.station.space.free_bytes), total: formatBytes(s.station.space.total_bytes) })
    : none;
  main().replaceChildren(
    el("h2", {}, t(lang, "settings.title")),
    el("p", { class: "hint" }, t(lang, "settings.hint")),
    el("section", { class: "cards" },
      el("article", { class: "card", id: "settings-station" },
        el("h3", {}, t(lang, "status.station")),
        el("dl", {},
          row(t(lang, "status.stationId"), s.station.station_id),
          row(t(lang, "status.kecamatan"), s.station.kecamatan),
          row(t(lang, "status.dataDir"), s.station.data_dir),
          row(t(lang, "settings.space"), space),
          row(t(lang, "settings.signingKey"), s.station.signing_key ?? t(lang, "settings.keyMissing")),
          row(t(lang, "settings.lang"), s.lang === "en" ? "English" : "Bahasa Indonesia"))),
      el("article", { class: "card", id: "settings-dc" },
        el("h3", {}, t(lang, "settings.dc")),
        el("dl", {},
          row(t(lang, "settings.dcId"), s.data_center.dc_id ?? t(lang, "settings.notRegistered")),
          row(t(lang, "settings.dcRegistered"), s.data_center.registered_url ?? none),
          row(t(lang, "settings.dcSync"), s.data_center.sync_url ?? t(lang, "sync.off")))),
      el("article", { class: "card", id: "settings-devices" },
        el("h3", {}, t(lang, "devices.title")),
        el("dl", {},
          row(t(lang, "settings.pad"), s.devices.pad_ports.join(", ") || none),
          row("SBI", s.devices.sbi_ports),
          row(t(lang, "settings.sbiTrust"), s.devices.sbi_trust ?? none),
          row(t(lang, "settings.cardReader"), s.devices.card_reader ?? t(lang, "settings.firstReader")),
          row(t(lang, "settings.cardTrust"), s.devices.card_csca ?? none),
          row(t(lang, "settings.documentSigner"), s.devices.document_signer ?? none),
          row("SIAK", s.siak_url ?? none),
          row(t(lang, "pop.title"), s.population
            ? t(lang, "pop.summary", {
              region: s.population.region, sequence: s.population.sequence,
              residents: formatCount(lang, s.population.residents),
              asOf: s.population.as_of.slice(0, 10), age: s.population.age_days,
            })
            : t(lang, "pop.none")),
          row(t(lang, "nav.training"), yesNo(lang, s.training))))));
}
