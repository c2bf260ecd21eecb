// The operator's screen. It only renders what the core returns through Tauri commands; no
// logic of the station lives here, and nothing is loaded from the network.

import { t, resolveLang, otherLang, formatCount } from "./i18n.js";

const invoke = window.__TAURI__?.core?.invoke;
let lang = resolveLang(localStorage.getItem("rekam.lang"));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function row(label, value) {
  return el("div", { class: "row" }, el("dt", {}, label), el("dd", {}, value));
}

function applyStaticText() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(lang, node.dataset.t);
  for (const node of document.querySelectorAll("[data-t-title]")) node.title = t(lang, node.dataset.tTitle);
  document.getElementById("lang-toggle").textContent = t(lang, "lang.switch");
}

function renderStatus(s) {
  document.getElementById("station-id").textContent = s.station_id;
  document.getElementById("attribution").textContent = s.regions_attribution;
  const regions = s.regions
    .map((r) => `${formatCount(lang, r.count)} ${t(lang, `level.${r.level}`)}`)
    .join(" · ");
  const main = document.getElementById("main");
  main.replaceChildren(
    el("h2", {}, t(lang, "status.title")),
    el("section", { class: "cards" },
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
          row(t(lang, "status.schema"), String(s.schema_version)))),
      el("article", { class: "card", id: "card-audit" },
        el("h3", {}, t(lang, "status.audit")),
        el("dl", {},
          row(t(lang, "status.auditEntries"), formatCount(lang, s.audit_entries)),
          row(t(lang, "status.auditHead"), `${s.audit_head.slice(0, 16)}…`))),
      el("article", { class: "card", id: "card-regions" },
        el("h3", {}, t(lang, "status.regions")),
        el("p", {}, regions))));
}

function renderError(err) {
  const main = document.getElementById("main");
  const retry = el("button", { type: "button", id: "retry" }, t(lang, "error.retry"));
  retry.addEventListener("click", refresh);
  main.replaceChildren(
    el("section", { class: "error", role: "alert" },
      el("h2", {}, t(lang, "error.title")),
      el("p", {}, err?.message ?? String(err)),
      el("p", { class: "code" }, `${t(lang, "error.code")}: ${err?.code ?? "?"}`),
      retry));
  retry.focus();
}

function renderDevices(devices) {
  const bar = document.getElementById("devices");
  bar.replaceChildren(
    el("span", { class: "devices-title" }, t(lang, "devices.title")),
    ...devices.map((d) =>
      el("span", { class: `device ${d.state}`, title: d.detail, "data-kind": d.kind },
        el("strong", {}, d.label), " ", t(lang, `devices.${d.state}`),
        d.state === "no_driver" ? "" : ` · ${d.detail}`)));
}

async function refresh() {
  applyStaticText();
  try {
    if (!invoke) throw { code: "NO_SHELL", message: "window.__TAURI__ missing" };
    renderStatus(await invoke("station_status", { lang }));
  } catch (err) {
    renderError(err);
  }
  if (invoke) {
    try {
      renderDevices(await invoke("device_status", { lang }));
    } catch (err) {
      renderDevices([]);
    }
  }
  if (invoke) await invoke("ui_rendered", { text: document.body.innerText });
}

function toggleLang() {
  lang = otherLang(lang);
  localStorage.setItem("rekam.lang", lang);
  refresh();
}

async function start() {
  // The station's default language applies until the operator picks one on this screen.
  if (invoke && localStorage.getItem("rekam.lang") === null) {
    try {
      lang = resolveLang((await invoke("ui_config")).lang);
    } catch {
      lang = resolveLang(null);
    }
  }
  await refresh();
}

document.getElementById("lang-toggle").addEventListener("click", toggleLang);
document.addEventListener("keydown", (e) => {
  if (e.altKey && e.key.toLowerCase() === "b") {
    e.preventDefault();
    toggleLang();
  }
});
start();
