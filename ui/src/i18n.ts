// Operator-facing text. Bahasa Indonesia is the default; English on request. Every key must
// exist in both languages (ui/i18n.test.mjs checks it).

export const MESSAGES = {
  id: {
    "app.subtitle": "Stasiun Perekaman KTP-el",
    "lang.switch": "English",
    "lang.hint": "Ganti bahasa (Alt+B)",
    "status.loading": "Memuat status stasiun…",
    "status.title": "Status stasiun",
    "status.station": "Stasiun",
    "status.stationId": "ID stasiun",
    "status.kecamatan": "Kecamatan",
    "status.created": "Dibuat",
    "status.store": "Penyimpanan",
    "status.encrypted": "Terenkripsi (SQLCipher), kunci di luar basis data",
    "status.schema": "Versi skema",
    "status.recordings": "Rekaman tersimpan",
    "status.lastSeq": "urutan terakhir",
    "status.audit": "Log audit",
    "status.auditEntries": "Entri",
    "status.auditHead": "Hash terakhir",
    "status.regions": "Data induk wilayah",
    "status.dataDir": "Direktori data",
    "level.province": "provinsi",
    "level.regency": "kabupaten/kota",
    "level.kecamatan": "kecamatan",
    "level.village": "kelurahan/desa",
    "error.title": "Stasiun belum dapat digunakan",
    "error.code": "Kode",
    "error.retry": "Coba lagi",
    "footer.offline": "Bekerja tanpa jaringan: semua data tersimpan di stasiun ini.",
    "devices.title": "Perangkat",
    "devices.ready": "siap",
    "devices.problem": "bermasalah",
    "devices.no_driver": "belum didukung",
  },
  en: {
    "app.subtitle": "e-KTP Enrollment Station",
    "lang.switch": "Bahasa Indonesia",
    "lang.hint": "Switch language (Alt+B)",
    "status.loading": "Loading the station's status…",
    "status.title": "Station status",
    "status.station": "Station",
    "status.stationId": "Station id",
    "status.kecamatan": "Kecamatan",
    "status.created": "Created",
    "status.store": "Storage",
    "status.encrypted": "Encrypted (SQLCipher), key kept outside the database",
    "status.schema": "Schema version",
    "status.recordings": "Recordings stored",
    "status.lastSeq": "last sequence",
    "status.audit": "Audit log",
    "status.auditEntries": "Entries",
    "status.auditHead": "Last hash",
    "status.regions": "Region master data",
    "status.dataDir": "Data directory",
    "level.province": "provinces",
    "level.regency": "regencies/cities",
    "level.kecamatan": "kecamatan",
    "level.village": "villages",
    "error.title": "The station cannot be used yet",
    "error.code": "Code",
    "error.retry": "Try again",
    "footer.offline": "Works without a network: all data stays on this station.",
    "devices.title": "Devices",
    "devices.ready": "ready",
    "devices.problem": "problem",
    "devices.no_driver": "not supported yet",
  },
};

export const DEFAULT_LANG = "id";

/** The language to use: a saved choice if valid, else Bahasa Indonesia. */
export function resolveLang(saved) {
  return Object.hasOwn(MESSAGES, saved) ? saved : DEFAULT_LANG;
}

/** The other language, for the switch. */
export function otherLang(lang) {
  return lang === "id" ? "en" : "id";
}

/** The text for `key` in `lang`; the key itself if missing, so a gap is visible, not blank. */
export function t(lang, key) {
  return MESSAGES[resolveLang(lang)][key] ?? key;
}

/** Formats a count the way the language groups digits (83.762 / 83,762). */
export function formatCount(lang, n) {
  return new Intl.NumberFormat(lang === "id" ? "id-ID" : "en-GB").format(n);
}
