// The operator's screen. It only renders what the core returns through Tauri commands; no
// logic of the station lives here, and nothing is loaded from the network.

import { t, resolveLang, otherLang, formatCount, formatAge, type Lang } from "./i18n.js";
import { STEPS, stepState, CAPTURE_STEPS, PREVIEW, fingerName, type StepName } from "./wizard.js";
import { offered, shortcut, type Screen } from "./nav.js";
import { el, button, row, main } from "./dom.js";
import * as office from "./office.js";
import * as issuance from "./issuance.js";
import { biodataList, checklistForm, tickedDocuments } from "./parts.js";
import { CASE_LABELS, EYE_LABELS, STEP_LABELS, type CaseType, type Commands, type DeviceView, type Outcome, type Problem, type BacklogCounts, type BacklogLine, type ExtractStatus, type HomeView, type TraineeResident, type Progress, type SealedView, type SessionView, type WizardView } from "./bindings.js";

type Json = any; // what arrives untyped: the shell's global object, its events, a rejection

const invoke: ((cmd: string, args?: Record<string, unknown>) => Promise<unknown>) | undefined =
  (window as Json).__TAURI__?.core?.invoke;
let lang: Lang = resolveLang(localStorage.getItem("rekam.lang"));
let training = false;
let screen: Screen = "home";
let operator: SessionView | null = null;
let busy = false;
/** The case of the resident last called to the devices in training: the start screen offers it. */
let presentedCase: string | null = null;
/** Mobile-team mode (a preference of this laptop, not a permission): home visits by default
 * and a banner with what has not reached the data center yet. */
let homeVisit = localStorage.getItem("rekam.homeVisit") === "1";
/** The live preview the wizard shows: its number from the shell, 0 when none; and the number
 * of the last request for one (an answer to an older request is stopped at once). */
let preview = 0;
let previewRequest = 0;

/** Runs command `cmd` in the shell; it answers the command's own type (`Commands`), or
 * rejects with a `Problem`. */
function call<K extends keyof Commands>(cmd: K, args: Record<string, unknown> = {}): Promise<Commands[K]> {
  if (!invoke) return Promise.reject({ code: "NO_SHELL", message: "window.__TAURI__ missing" });
  return invoke(cmd, { lang, ...args }) as Promise<Commands[K]>;
}

function errorBox(err: Problem | Json): HTMLElement {
  return el("section", { class: "error", role: "alert", id: "error" },
    el("p", {}, err?.message ?? String(err)),
    el("p", { class: "code" }, `${t(lang, "error.code")}: ${err?.code ?? "?"}`));
}

/** Shows `err` above the current screen's content without losing what was typed. */
function showError(err: Problem | Json): void {
  document.getElementById("error")?.remove();
  main().prepend(errorBox(err));
}

/** Runs a command that takes time (a capture, a login): the screen says so and the buttons
 * wait, so a busy counter cannot press twice. */
async function working<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
  if (busy) return undefined;
  busy = true;
  document.getElementById("error")?.remove();
  const note = el("p", { class: "working", id: "working", role: "status" }, el("span", { class: "spinner" }), what);
  main().prepend(note);
  for (const b of main().querySelectorAll("button")) (b as HTMLButtonElement).disabled = true;
  try {
    return await run();
  } catch (err) {
    note.remove();
    for (const b of main().querySelectorAll("button")) (b as HTMLButtonElement).disabled = false;
    showError(err);
    if ((err as Problem)?.code === "SESSION_LOCKED") renderUnlock();
    return undefined;
  } finally {
    busy = false;
    note.remove();
  }
}

// ----- the frame: header, device bar, navigation ---------------------------------------------

function applyStaticText(): void {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll<HTMLElement>("[data-t]")) node.textContent = t(lang, node.dataset.t ?? "");
  for (const node of document.querySelectorAll<HTMLElement>("[data-t-title]")) node.title = t(lang, node.dataset.tTitle ?? "");
  (document.getElementById("lang-toggle") as HTMLElement).textContent = t(lang, "lang.switch");
}

function renderNav(backlog: BacklogCounts | null): void {
  const nav = document.getElementById("nav") as HTMLElement;
  const items: HTMLElement[] = offered(operator?.may ?? null, training).map((name) => {
    const b = button(`nav-${name}`, t(lang, `nav.${name}`), () => go(name), name === screen ? "current" : "");
    if (name === "backlog" && backlog && backlog.stuck > 0) {
      b.append(" ", el("span", { class: "badge", id: "backlog-badge" }, `${backlog.stuck} ${t(lang, "backlog.badge")}`));
    }
    return b;
  });
  if (operator) {
    items.push(el("span", { class: "operator", id: "operator" }, `${t(lang, "login.as")}: ${operator.name} (${operator.operator_id})`));
    items.push(button("nav-lock", t(lang, "nav.lock"), lockScreen));
    items.push(button("nav-logout", t(lang, "nav.logout"), logout));
  }
  nav.replaceChildren(...items);
}

function renderDevices(devices: DeviceView[]): void {
  const bar = document.getElementById("devices") as HTMLElement;
  bar.replaceChildren(
    el("span", { class: "devices-title" }, t(lang, "devices.title")),
    ...devices.map((d) =>
      el("span", { class: `device ${d.state}`, title: d.detail, "data-kind": d.kind },
        el("strong", {}, d.label), " ", t(lang, `devices.${d.state}`), ` · ${d.detail}`)));
}

/** The header, the navigation and the device bar; the station's status, or why it cannot be
 * read. The device survey runs beside the screen's own work. */
async function refreshFrame(): Promise<{ status: HomeView | null; error: unknown; devices: Promise<void> }> {
  applyStaticText();
  const devices = call("device_status").then(renderDevices, () => renderDevices([]));
  let status: HomeView | null = null;
  let error: unknown = null;
  try {
    status = await call("station_status");
    (document.getElementById("station-id") as HTMLElement).textContent = status.status.station_id;
    (document.getElementById("attribution") as HTMLElement).textContent = status.status.regions_attribution;
  } catch (err) {
    error = err;
  }
  renderNav(status?.backlog ?? null);
  return { status, error, devices };
}

async function go(next: Screen): Promise<void> {
  if (busy) return;
  if (!offered(operator?.may ?? null, training).includes(next)) next = "home";
  screen = next;
  office.leave();
  stopPreview();
  const frame = await refreshFrame();
  const ctx: office.Ctx = { lang, call, working, showError, go: () => go(screen) };
  switch (screen) {
    case "home": renderHome(frame.status, frame.error); break;
    case "record": await renderRecording(); break;
    case "handover": await office.renderHandover(ctx); break;
    case "reissue": await issuance.renderReissue(ctx); break;
    case "personalise": await issuance.renderPersonalise(ctx); break;
    case "backlog": await renderBacklog(); break;
    case "sync": await office.renderSync(ctx); break;
    case "export": await office.renderExport(ctx); break;
    case "report": await office.renderReport(ctx); break;
    case "settings": await office.renderSettings(ctx); break;
    case "training": await renderTraining(); break;
  }
  if (homeVisit && frame.status && (screen === "home" || screen === "record")) {
    // Before leaving: how old the residents' data is that the team will read offline.
    const p = frame.status.population;
    main().prepend(el("p", { class: "warn banner", id: "mobile-banner", role: "status" },
      t(lang, "mobile.banner", { unsent: formatCount(lang, frame.status.backlog.unsent) }), " ",
      p ? t(lang, "mobile.extract", { region: p.region, age: p.age_days }) : t(lang, "mobile.noExtract")));
  }
  await frame.devices;
  if (invoke) await invoke("ui_rendered", { text: document.body.innerText });
}

// ----- home and login --------------------------------------------------------------------------

function renderHome(status: HomeView | null, err: Problem | Json): void {
  if (!status && !operator && (err as Problem)?.code === "STATION_LOCKED") {
    // A station with key slots: nothing opens before a login, and that is no error.
    main().replaceChildren(el("h2", {}, t(lang, "status.title")),
      el("p", { class: "note", id: "station-locked", role: "status" }, t(lang, "status.locked")),
      loginForm());
    (document.getElementById("login-id") as HTMLInputElement | null)?.focus();
    return;
  }
  if (!status) {
    const retry = button("retry", t(lang, "error.retry"), () => go("home"));
    main().replaceChildren(el("section", { class: "error", role: "alert" },
      el("h2", {}, t(lang, "error.title")),
      el("p", {}, err?.message ?? String(err)),
      el("p", { class: "code" }, `${t(lang, "error.code")}: ${err?.code ?? "?"}`),
      retry));
    retry.focus();
    return;
  }
  const s = status.status;
  const regions = s.regions
    .map((r) => `${formatCount(lang, r.count)} ${t(lang, `level.${r.level}`)}`)
    .join(" · ");
  const cards = el("section", { class: "cards" },
    el("article", { class: "card", id: "card-station" },
      el("h3", {}, t(lang, "status.station")),
      el("dl", {},
        row(t(lang, "status.stationId"), s.station_id),
        row(t(lang, "status.kecamatan"), `${s.kecamatan_code} ${s.region_path.join(" / ")}`),
        row(t(lang, "status.created"), new Date(s.created_at).toLocaleString(lang === "id" ? "id-ID" : "en-GB")),
        row(t(lang, "status.dataDir"), s.data_dir))),
    el("article", { class: "card", id: "card-store" },
      el("h3", {}, t(lang, "status.store")),
      el("p", { class: "ok" }, t(lang, "status.encrypted")),
      el("dl", {},
        row(t(lang, "status.recordings"),
          `${formatCount(lang, s.journal.entries)} (${t(lang, "status.lastSeq")} ${s.journal.head_seq})`),
        row(t(lang, "status.schema"), String(s.schema_version)),
        row(t(lang, "backlog.title"), t(lang, "backlog.summary", status.backlog)))),
    el("article", { class: "card", id: "card-audit" },
      el("h3", {}, t(lang, "status.audit")),
      el("dl", {},
        row(t(lang, "status.auditEntries"), formatCount(lang, s.audit_entries)),
        row(t(lang, "status.auditHead"), `${s.audit_head.slice(0, 16)}…`))),
    el("article", { class: "card", id: "card-regions" },
      el("h3", {}, t(lang, "status.regions")),
      el("p", {}, regions)),
    populationCard(status.population),
    mobileCard());
  const content: HTMLElement[] = [el("h2", {}, t(lang, "status.title"))];
  if (!operator) content.push(loginForm());
  content.push(cards);
  main().replaceChildren(...content);
  (document.getElementById("login-id") as HTMLInputElement | null)?.focus();
}

/** The Dinas's population extract in force: what a counter reads biodata from offline. */
function populationCard(p: ExtractStatus | null): HTMLElement {
  const card = el("article", { class: "card", id: "card-population" }, el("h3", {}, t(lang, "pop.title")));
  if (!p) {
    card.append(el("p", { class: "warn" }, t(lang, "pop.none")));
    return card;
  }
  card.append(el("p", {}, t(lang, "pop.summary", {
    region: p.region, sequence: p.sequence, residents: formatCount(lang, p.residents),
    asOf: new Date(p.as_of).toLocaleDateString(lang === "id" ? "id-ID" : "en-GB"), age: p.age_days,
  })));
  if (p.stale) card.append(el("p", { class: "warn" }, t(lang, "pop.stale")));
  return card;
}

/** The switch of mobile-team mode, kept on this laptop. */
function mobileCard(): HTMLElement {
  const box = el("input", { type: "checkbox", id: "home-visit-mode" }) as HTMLInputElement;
  box.checked = homeVisit;
  box.addEventListener("change", () => {
    homeVisit = box.checked;
    localStorage.setItem("rekam.homeVisit", homeVisit ? "1" : "0");
    go(screen);
  });
  return el("article", { class: "card", id: "card-mobile" },
    el("h3", {}, t(lang, "mobile.title")),
    el("label", {}, box, ` ${t(lang, "mobile.mode")}`),
    el("p", { class: "hint" }, t(lang, "mobile.hint")));
}

function loginForm(): HTMLElement {
  const id = el("input", { id: "login-id", autocomplete: "username", required: "" }) as HTMLInputElement;
  const pw = el("input", { id: "login-password", type: "password", autocomplete: "current-password", required: "" }) as HTMLInputElement;
  const form = el("form", { class: "card login", id: "login" },
    el("h3", {}, t(lang, "login.title")),
    el("label", {}, t(lang, "login.id"), id),
    el("label", {}, t(lang, "login.password"), pw),
    el("p", { class: "hint" }, t(lang, "login.finger")),
    el("button", { type: "submit", id: "login-submit" }, t(lang, "login.submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const who = await working(t(lang, "login.working"), () =>
      call("login", { operatorId: id.value.trim(), password: pw.value }));
    pw.value = "";
    if (who) {
      operator = who;
      go(who.may.includes("serve") ? "record" : "home");
    }
  });
  return form;
}

function renderUnlock(): void {
  const pw = el("input", { id: "unlock-password", type: "password", required: "" }) as HTMLInputElement;
  const form = el("form", { class: "card login", id: "unlock" },
    el("h3", {}, t(lang, "unlock.title")),
    el("label", {}, t(lang, "login.password"), pw),
    el("button", { type: "submit", id: "unlock-submit" }, t(lang, "unlock.submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const who = await working(t(lang, "wizard.working"), () => call("unlock", { password: pw.value }));
    pw.value = "";
    if (who) go(screen);
  });
  main().append(form);
  pw.focus();
}

/** The operator steps away: the session locks (with key slots the store closes) until the
 * password opens it again. */
async function lockScreen(): Promise<void> {
  await working(t(lang, "wizard.working"), () => call("lock_screen"));
  main().replaceChildren();
  renderUnlock();
}

async function logout(): Promise<void> {
  await working(t(lang, "wizard.working"), () => call("logout"));
  operator = null;
  go("home");
}

// ----- the recording wizard -------------------------------------------------------------------

async function renderRecording(): Promise<void> {
  let view: WizardView | null = null;
  try {
    view = await call("recording_current");
  } catch (err) {
    showError(err);
  }
  drawWizard(view);
}

async function act(action: Record<string, unknown>): Promise<void> {
  const view = await working(t(lang, "wizard.working"), () => call("recording", { action }));
  if (view) drawWizard(view);
  else {
    // A refusal ends the visit: show what the core kept of it.
    const current = await call("recording_current").catch(() => null);
    if (current?.refused) {
      const err = document.getElementById("error");
      drawWizard(current);
      if (err) main().prepend(err);
    }
  }
}

function drawWizard(view: WizardView | null): void {
  stopPreview();
  if (!view) {
    const cases = el("select", { id: "case" },
      ...(["new_recording", "foreign_resident", "home_visit"] as const).map((c) => el("option", { value: c }, CASE_LABELS[c][lang]))) as HTMLSelectElement;
    if (presentedCase) cases.value = presentedCase;
    else if (homeVisit) cases.value = "home_visit";
    const start = button("start", t(lang, "wizard.start"), () => act({ action: "start", case: cases.value }), "primary");
    main().replaceChildren(el("h2", {}, t(lang, "wizard.title")),
      el("section", { class: "card" }, el("label", {}, t(lang, "wizard.case"), cases), start));
    start.focus();
    return;
  }
  const current = view.step as StepName;
  const steps = el("ol", { class: "steps", id: "steps" },
    ...STEPS.map((s) => el("li", { class: stepState(s, current), "data-step": s }, STEP_LABELS[s][lang])));
  const head = el("div", { class: "wizard-head" },
    el("span", { class: "queue", id: "queue" }, `${t(lang, "wizard.queue")} ${view.queue_number}`),
    el("span", {}, view.case_label));
  const panel = el("section", { class: "card panel", id: "panel" });
  const body = el("div", { class: "wizard" }, steps, panel);
  main().replaceChildren(el("h2", {}, t(lang, "wizard.title")), head, body);
  fillPanel(panel, view);
}

function fillPanel(panel: HTMLElement, view: WizardView): void {
  const step = view.step as StepName;
  panel.append(el("h3", { id: "step-title" }, STEP_LABELS[step][lang]));
  if (view.refused) {
    panel.append(el("div", { class: "refused", id: "refused" },
      el("strong", {}, t(lang, "wizard.refused")),
      el("p", {}, view.refused.message),
      el("p", { class: "code" }, view.refused.code)));
    panel.append(button("next-visit", t(lang, "wizard.newVisit"), () => closeVisit(), "primary"));
    (panel.querySelector("#next-visit") as HTMLElement).focus();
    return;
  }
  if (view.sealed) return sealedPanel(panel, view.sealed);
  if (view.cancelled) {
    panel.append(el("p", {}, t(lang, "wizard.cancelled")),
      button("next-visit", t(lang, "wizard.newVisit"), () => closeVisit(), "primary"));
    return;
  }
  // The device's live picture, at the top beside what the step shows.
  const device = view.paused ? undefined : PREVIEW[step];
  if (device) panel.append(previewFigure(device));
  if (view.biodata && step !== "biodata") panel.append(biodataList(lang, "biodata", view.biodata, true));
  if (view.biodata_source && step !== "biodata") {
    const s = view.biodata_source;
    panel.append(el("p", { class: s.stale ? "warn" : "hint", id: "biodata-source" }, `${t(lang, "bio.source")}: ${s.label}`),
      ...(s.stale ? [el("p", { class: "warn" }, t(lang, "pop.stale"))] : []));
  }
  // What the de-duplication compared the person with: the whole kecamatan, or (the kecamatan
  // server out of reach) this station only.
  if (view.kecamatan) {
    panel.append(el("p", { class: view.kecamatan.kecamatan ? "hint" : "warn", id: "dedup-source" }, view.kecamatan.label));
  }
  if (view.last && view.last.kind !== "done") panel.append(lastResult(view.last));
  let primary: HTMLElement | null = null;
  if (view.paused) {
    panel.append(el("p", { class: "hint" }, t(lang, "wizard.paused")));
    primary = button("resume", t(lang, "wizard.resume"), () => act({ action: "resume" }), "primary");
    panel.append(primary);
  } else if (step === "documents") {
    primary = documentsForm(panel, view);
  } else if (step === "biodata") {
    primary = biodataForm(panel);
  } else if (step === "eligibility") {
    primary = button("confirm", t(lang, "bio.confirm"), () => act({ action: "confirm", confirmed: true }), "primary");
    panel.append(primary, " ", button("reject", t(lang, "bio.reject"), () => act({ action: "confirm", confirmed: false })));
  } else if (CAPTURE_STEPS[step]) {
    const c = CAPTURE_STEPS[step]!;
    primary = button("capture", t(lang, c.label), () => act({ action: c.action }), "primary");
    panel.append(primary);
    if (step === "fingers" || step === "irises") panel.append(exceptionForm(step));
    // The mismatch's advice, when placing the finger again does not help.
    if (step === "index_verification") {
      panel.append(" ", button("retake-fingers", t(lang, "cap.retakeFingers"), () => act({ action: "retake_fingers" })));
    }
  }
  if (!view.paused) {
    const reason = el("input", { id: "cancel-reason", placeholder: t(lang, "wizard.cancelReason") }) as HTMLInputElement;
    panel.append(el("div", { class: "secondary" },
      button("pause", t(lang, "wizard.pause"), () => act({ action: "pause", reason: reason.value || "jeda" })),
      reason,
      button("cancel", t(lang, "wizard.cancel"), () => {
        if (!reason.value.trim()) return reason.focus();
        act({ action: "cancel", reason: reason.value.trim() });
      })));
  }
  primary?.focus();
}

// ----- live preview -----------------------------------------------------------------------------

/** The device's live picture (the SBI stream through the shell) beside the capture button. */
function previewFigure(device: string): HTMLElement {
  const figure = el("figure", { class: "preview", id: "preview-figure", "data-device": device },
    el("img", { id: "preview", alt: t(lang, "preview.title") }),
    el("figcaption", { id: "preview-state" }, t(lang, "preview.waiting")));
  const mine = ++previewRequest;
  call("preview_start", { device })
    .then((id: number) => {
      if (mine === previewRequest) preview = id;
      else call("preview_stop", { preview: id }).catch(() => undefined);
    })
    .catch((err: Json) => previewState(t(lang, "preview.failed", { message: err?.message ?? String(err) })));
  return figure;
}

function previewState(text: string): void {
  const caption = document.getElementById("preview-state");
  if (caption) caption.textContent = text;
}

function stopPreview(): void {
  previewRequest += 1;
  if (preview === 0) return;
  call("preview_stop", { preview }).catch(() => undefined);
  preview = 0;
}

function listenToPreviews(): void {
  const events = (window as Json).__TAURI__?.event;
  if (!events) return;
  events.listen("preview-frame", (e: Json) => {
    if (e.payload.preview !== preview) return;
    const img = document.getElementById("preview") as HTMLImageElement | null;
    if (!img) return;
    img.src = e.payload.src;
    previewState(t(lang, "preview.live"));
  });
  // The operating system locked the screen (or the lid was closed): the counter locked too.
  events.listen("screen-locked", () => {
    if (!operator) return;
    main().replaceChildren();
    renderUnlock();
  });
  events.listen("preview-end", (e: Json) => {
    if (e.payload.preview !== preview) return;
    const err = e.payload.error;
    previewState(err ? t(lang, "preview.failed", { message: err.message }) : t(lang, "preview.ended"));
  });
}

async function closeVisit(): Promise<void> {
  await call("recording_close").catch(() => undefined);
  drawWizard(null);
}

function documentsForm(panel: HTMLElement, view: WizardView): HTMLElement {
  const list = checklistForm(lang, "checklist", view.checklist);
  const next = button("documents-next", t(lang, "wizard.next"),
    () => act({ action: "documents", ...tickedDocuments(list, view.checklist) }), "primary");
  panel.append(list, next);
  return next;
}

function biodataForm(panel: HTMLElement): HTMLElement {
  const nik = el("input", { id: "nik", inputmode: "numeric", maxlength: "16", autocomplete: "off" }) as HTMLInputElement;
  const none = el("input", { type: "checkbox", id: "no-nik" }) as HTMLInputElement;
  const form = el("form", { id: "biodata-form" },
    el("label", {}, t(lang, "bio.nik"), nik),
    el("label", {}, none, ` ${t(lang, "bio.noNik")}`),
    el("button", { type: "submit", id: "read-biodata", class: "primary" }, t(lang, "bio.read")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act({ action: "biodata", nik: none.checked ? null : nik.value.replace(/\D/g, "") });
  });
  panel.append(form);
  return nik;
}

function lastResult(last: Outcome): HTMLElement {
  const out = el("div", { class: "last", id: "last" });
  const progress = (p: Progress, name: (c: number) => string) => {
    const names = (codes: number[]) => codes.map(name).join(", ") || "–";
    out.append(el("dl", {},
      row(t(lang, "cap.captured"), names(p.captured)),
      row(t(lang, "cap.exceptions"), names(p.exceptions)),
      row(t(lang, "cap.pending"), names(p.pending))));
  };
  switch (last.kind) {
    case "score":
      out.append(el("span", {}, `${t(lang, "cap.score")} `),
        el("meter", { min: "0", max: "100", low: "40", optimum: "80", value: String(last.value) }), ` ${last.value}`);
      break;
    case "fingers":
      progress(last.value, (c) => fingerName(lang, c));
      break;
    case "irises":
      progress(last.value, (c) => EYE_LABELS[c]?.[lang] ?? String(c));
      break;
    case "verified":
      out.append(`${t(lang, "cap.score")}: ${last.value.right} / ${last.value.left}`);
      break;
    case "finger_exception":
    case "iris_exception":
    case "done":
      break;
  }
  return out;
}

function exceptionForm(step: StepName): HTMLElement {
  const which = step === "fingers"
    ? el("select", { id: "exc-which" }, ...Array.from({ length: 10 }, (_, i) => el("option", { value: String(i + 1) }, fingerName(lang, i + 1))))
    : el("select", { id: "exc-which" }, el("option", { value: "right" }, t(lang, "eye.right")), el("option", { value: "left" }, t(lang, "eye.left")));
  const reason = el("select", { id: "exc-reason" },
    ...["missing", "amputated", "bandaged", "unreadable"].map((r) => el("option", { value: r }, t(lang, `reason.${r}`))));
  const sup = el("input", { id: "exc-supervisor", autocomplete: "off" }) as HTMLInputElement;
  const pw = el("input", { id: "exc-password", type: "password" }) as HTMLInputElement;
  const submit = button("exc-submit", t(lang, "exc.submit"), () => {
    const w = (which as HTMLSelectElement).value;
    const r = (reason as HTMLSelectElement).value;
    const password = pw.value;
    pw.value = "";
    act(step === "fingers"
      ? { action: "finger_exception", finger: Number(w), reason: r, supervisor_id: sup.value.trim(), password }
      : { action: "iris_exception", eye: w, reason: r, supervisor_id: sup.value.trim(), password });
  });
  return el("details", { class: "exception", id: "exception" },
    el("summary", {}, t(lang, "exc.title")),
    el("label", {}, t(lang, step === "fingers" ? "exc.finger" : "exc.eye"), which),
    el("label", {}, t(lang, "exc.reason"), reason),
    el("label", {}, t(lang, "exc.supervisor"), sup),
    el("label", {}, t(lang, "exc.password"), pw),
    el("p", { class: "hint" }, t(lang, "exc.fingerHint")),
    submit);
}

function sealedPanel(panel: HTMLElement, s: SealedView): void {
  const qr = el("div", { class: "qr", id: "qr" });
  // The SVG comes from the core (documents::qr_svg), built from the packet id alone.
  qr.innerHTML = s.qr_svg;
  panel.append(el("article", { class: "letter", id: "summons" },
    el("h3", {}, t(lang, "sealed.title")),
    el("p", {}, t(lang, "sealed.body", { kb: Math.round(s.letter_bytes / 1024) })),
    el("dl", {},
      row(t(lang, "wizard.queue"), s.queue_number),
      row(t(lang, "bio.name"), s.name),
      row("NIK", s.masked_nik),
      row(t(lang, "sealed.packet"), s.packet_id)),
    qr),
  button("print", t(lang, "sealed.print"), () => window.print()),
  " ",
  button("next-visit", t(lang, "wizard.newVisit"), () => closeVisit(), "primary"));
  (panel.querySelector("#next-visit") as HTMLElement).focus();
}

// ----- backlog and training -------------------------------------------------------------------

async function renderBacklog(): Promise<void> {
  let lines: BacklogLine[] = [];
  try {
    lines = await call("backlog");
  } catch (err) {
    main().replaceChildren(el("h2", {}, t(lang, "backlog.title")), errorBox(err));
    return;
  }
  const table = lines.length === 0
    ? el("p", { id: "backlog-empty" }, t(lang, "backlog.empty"))
    : el("table", { id: "backlog" },
      el("thead", {}, el("tr", {}, ...["record", "nik", "state", "age", "reason", "next"].map((c) => el("th", {}, t(lang, `backlog.col.${c}`))))),
      el("tbody", {}, ...lines.map((l) => el("tr", { class: l.stuck ? "stuck" : "" },
        el("td", { class: "mono" }, String(l.packet_id ?? "").slice(0, 8)),
        el("td", { class: "mono" }, l.masked_nik ?? ""),
        el("td", {}, l.stuck ? `${l.state} · ${t(lang, "backlog.stuck")}` : l.state),
        el("td", {}, formatAge(lang, l.age_seconds)),
        el("td", {}, l.last_code ?? l.pass_failure ?? "–"),
        el("td", {}, l.next_step)))));
  const toClarify = lines.filter((l) => l.state === "DUPLICATE_RECORD");
  const forms = operator?.may?.includes("approve") && toClarify.length > 0 ? [clarifyForm(toClarify)] : [];
  main().replaceChildren(el("h2", {}, t(lang, "backlog.title")), table, ...forms);
}

/** A supervisor records how a duplicate the data center found was clarified with the resident
 * (seed 001, 3b); the record then leaves the backlog. */
function clarifyForm(duplicates: BacklogLine[]): HTMLElement {
  const packet = el("select", { id: "clarify-packet" },
    ...duplicates.map((l) => el("option", { value: l.packet_id }, `${l.packet_id.slice(0, 8)} · ${l.masked_nik}`))) as HTMLSelectElement;
  const outcome = el("select", { id: "clarify-outcome" },
    el("option", { value: "RECORDED_BEFORE" }, t(lang, "clarify.recordedBefore")),
    el("option", { value: "DISPUTED" }, t(lang, "clarify.disputed"))) as HTMLSelectElement;
  const note = el("input", { id: "clarify-note", autocomplete: "off", size: "48", required: "" }) as HTMLInputElement;
  const form = el("form", { class: "card", id: "clarify-form" },
    el("h3", {}, t(lang, "clarify.title")),
    el("p", { class: "hint" }, t(lang, "clarify.hint")),
    el("label", {}, t(lang, "clarify.record"), packet),
    el("label", {}, t(lang, "clarify.outcome"), outcome),
    el("label", {}, t(lang, "clarify.note"), note),
    el("button", { type: "submit", id: "clarify-submit" }, t(lang, "clarify.submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const done = await working(t(lang, "wizard.working"), async () => {
      await call("clarify", { packetId: packet.value, outcome: outcome.value, note: note.value });
      return true;
    });
    if (done) await renderBacklog();
  });
  return form;
}

async function renderTraining(): Promise<void> {
  let roster: TraineeResident[] = [];
  try {
    roster = await call("training_roster");
  } catch (err) {
    main().replaceChildren(el("h2", {}, t(lang, "training.title")), errorBox(err));
    return;
  }
  const present = (index: number, who: string, residentCase: string | null = null) => async () => {
    const ok = await working(t(lang, "wizard.working"), () => call("training_present", { index }).then(() => true));
    if (!ok) return;
    if (residentCase) presentedCase = residentCase;
    main().prepend(el("p", { class: "ok", id: "presented", role: "status" }, t(lang, "training.presented", { who })));
  };
  main().replaceChildren(
    el("h2", {}, t(lang, "training.title")),
    el("p", { class: "hint" }, t(lang, "training.hint")),
    el("p", {},
      button("present-operator", t(lang, "training.operator"), present(1000, t(lang, "training.operator"))), " ",
      button("present-supervisor", t(lang, "training.supervisor"), present(1001, t(lang, "training.supervisor"))), " ",
      button("present-technician", t(lang, "training.technician"), present(1002, t(lang, "training.technician"))), " ",
      button("present-admin", t(lang, "training.admin"), present(1003, t(lang, "training.admin")))),
    el("table", { id: "roster" },
      el("tbody", {}, ...roster.map((r) => el("tr", { "data-case": r.case ?? "new_recording" },
        el("td", {}, String(r.index)),
        el("td", { class: "mono" }, r.nik ?? t(lang, "training.noNik")),
        el("td", {}, r.name),
        el("td", {}, r.birth_date),
        el("td", {}, r.edge_case ?? ""),
        el("td", {}, r.case ? CASE_LABELS[r.case as CaseType][lang] : ""),
        el("td", {}, button(`present-${r.index}`, t(lang, "training.present"), present(r.index, r.name, r.case ?? null))))))));
}

// ----- start ------------------------------------------------------------------------------------

function toggleLang(): void {
  lang = otherLang(lang);
  localStorage.setItem("rekam.lang", lang);
  go(screen);
}

async function start(): Promise<void> {
  listenToPreviews();
  if (invoke) {
    try {
      const config = await call("ui_config");
      training = config.training;
      // The station's default language applies until the operator picks one on this screen.
      if (localStorage.getItem("rekam.lang") === null) lang = resolveLang(config.lang);
      operator = await call("session").catch(() => null);
    } catch {
      lang = resolveLang(localStorage.getItem("rekam.lang"));
    }
  }
  await go(operator?.may?.includes("serve") ? "record" : "home");
}

(document.getElementById("lang-toggle") as HTMLElement).addEventListener("click", toggleLang);
document.addEventListener("keydown", (e) => {
  const command = shortcut(e.key, e.altKey, e.ctrlKey);
  if (!command) return;
  e.preventDefault();
  if (command === "lang") toggleLang();
  else if (command === "print") (document.getElementById("print") as HTMLButtonElement | null)?.click();
  else go(command);
});
start();
