// Generated from the Rust views of src-tauri (ts-rs) by src-tauri/src/bindings.rs: do not edit.
// REKAM_BLESS=1 cargo test -p rekam-desktop bindings writes it again.

export type Lang = "id" | "en";

export type CaseType = "new_recording" | "home_visit" | "replace_damaged" | "lost_card" | "data_change" | "moving_in" | "foreign_resident";

export type Document = "family_card_copy" | "rt_rw_cover_letter" | "application_form" | "birth_certificate_or_diploma" | "old_ktp" | "civil_status_certificate" | "damaged_card" | "police_loss_report" | "move_certificate" | "kitap_copy";

export type ExceptionReason = "missing" | "amputated" | "bandaged" | "unreadable";

export type MaskedNik = string;

export type DeviceKind = "fingerprint" | "iris" | "face" | "signature_pad" | "card_reader";

export type Step = "documents" | "biodata" | "eligibility" | "photo" | "signature" | "fingers" | "irises" | "index_verification" | "dedup" | "statement" | "operator_finger" | "seal" | "ended";

export type PassReport = { 
/**
 * Whether the gateway answered with the pinned identity.
 */
link_up: boolean, 
/**
 * Recordings that got their receipt in this pass.
 */
sent: number, 
/**
 * Attempts that failed.
 */
failed: number, 
/**
 * Result events applied.
 */
results: number, 
/**
 * Recordings still due after the pass.
 */
remaining: number, 
/**
 * The pass's first failure, code and words.
 */
error: [string, string] | null, };

export type LastPass = { 
/**
 * When it ended (RFC 3339, station time).
 */
at: string, 
/**
 * What it did.
 */
report: PassReport, };

export type UiError = { 
/**
 * Stable code.
 */
code: string, 
/**
 * In the operator's language.
 */
message: string, };

export type SessionView = { operator_id: string, name: string, role: string, 
/**
 * What the role may do (`serve`, `approve`, `maintain`, `personalise`, `report`): the
 * screens the navigation offers. The core checks again on every command.
 */
may: Array<string>, };

export type ChecklistLine = { document: Document, label: string, required: boolean, condition: string | null, };

export type BiodataView = { nik: string, name: string, birth: string, sex: string, address: string, religion: string, marital_status: string, occupation: string, citizenship: string, };

export type SealedView = { queue_number: string, packet_id: string, masked_nik: MaskedNik, name: string, qr_svg: string, letter_bytes: number, };

export type WizardView = { 
/**
 * Queue number.
 */
queue_number: string, 
/**
 * The case.
 */
case: CaseType, 
/**
 * The case's name.
 */
case_label: string, 
/**
 * The step to do next (`ended` when over).
 */
step: Step, 
/**
 * Whether the recording is paused.
 */
paused: boolean, 
/**
 * The case's document checklist.
 */
checklist: Array<ChecklistLine>, 
/**
 * The biodata read from SIAK.
 */
biodata: BiodataView | null, 
/**
 * What the last action gave (a score, a progress), for the screen to show. Not typed
 * yet: each step gives its own shape (the next step of the screen contract).
 */
last: any, 
/**
 * The sealed recording, once sealed.
 */
sealed: SealedView | null, };

export type EyeName = "right" | "left";

export type Password = string;

export type Action = { "action": "start", 
/**
 * The case.
 */
case: CaseType, } | { "action": "documents", 
/**
 * Presented.
 */
presented: Array<Document>, 
/**
 * Conditional documents that apply.
 */
applicable: Array<Document>, } | { "action": "biodata", 
/**
 * The NIK.
 */
nik: string | null, } | { "action": "confirm", 
/**
 * Whether it is theirs and right.
 */
confirmed: boolean, } | { "action": "photo" } | { "action": "signature" } | { "action": "fingers" } | { "action": "finger_exception", 
/**
 * ISO finger position (1-10).
 */
finger: number, 
/**
 * Why.
 */
reason: ExceptionReason, 
/**
 * The supervisor.
 */
supervisor_id: string, 
/**
 * Their password.
 */
password: Password, } | { "action": "irises" } | { "action": "iris_exception", 
/**
 * Which eye.
 */
eye: EyeName, 
/**
 * Why.
 */
reason: ExceptionReason, 
/**
 * The supervisor.
 */
supervisor_id: string, 
/**
 * Their password.
 */
password: Password, } | { "action": "verify" } | { "action": "retake_fingers" } | { "action": "dedup" } | { "action": "statement" } | { "action": "operator_finger" } | { "action": "seal" } | { "action": "pause", 
/**
 * Why.
 */
reason: string, } | { "action": "resume" } | { "action": "cancel", 
/**
 * Why.
 */
reason: string, };

export type HandoverAction = { "action": "start", 
/**
 * The letter's queue number.
 */
queue_number: string | null, } | { "action": "read_card" } | { "action": "confirm", 
/**
 * Whether it is theirs and right.
 */
confirmed: boolean, } | { "action": "verify" } | { "action": "dispensation", 
/**
 * The supervisor.
 */
supervisor_id: string, 
/**
 * Their password.
 */
password: string, 
/**
 * Whether the old KTP was surrendered.
 */
old_ktp_surrendered: boolean, } | { "action": "receipt", 
/**
 * Whether the resident surrendered an old KTP.
 */
old_ktp_withdrawn: boolean, };

export type HandedOverView = { card_serial: string, 
/**
 * `berhasil` or `dispensasi`.
 */
verification: string, receipt_bytes: number, };

export type HandoverView = { queue_number: string | null, 
/**
 * The step to do next: `card`, `chip_data`, `handover_verification`, `receipt`, `ended`.
 */
step: string, 
/**
 * The chip's data, once read.
 */
biodata: BiodataView | null, 
/**
 * The index fingers' scores against the chip.
 */
scores: [number, number] | null, 
/**
 * The card handed over.
 */
handed_over: HandedOverView | null, 
/**
 * Why the visit ended without a card (a forged card, fingers that do not match).
 */
refused: UiError | null, };

export type SyncView = { 
/**
 * The data center's address, when the app syncs.
 */
dc_url: string | null, 
/**
 * Whether the background sync runs in this app.
 */
running: boolean, 
/**
 * Its last pass (also a pass of `rekam sync` beside the app).
 */
last_pass: LastPass | null, 
/**
 * What to do about the last pass's failure, in the operator's language.
 */
last_pass_next: string | null, 
/**
 * Records by state.
 */
by_state: { [key in string]: number }, 
/**
 * All records.
 */
total: number, 
/**
 * Of those, at the data center (sent, or further).
 */
at_dc: number, 
/**
 * On a technician's disk, waiting for the data center's receipt.
 */
exported: number, };

export type ExportProgress = { done: number, total: number, bytes: number, };

export type DeviceView = { kind: DeviceKind, label: string, 
/**
 * `ready`, `problem`, or `no_driver`.
 */
state: string, 
/**
 * Identity when ready, what to do otherwise.
 */
detail: string, };

export type PrintOrderView = { packet_id: string, biodata: BiodataView, 
/**
 * Whether the chip gets each index finger (none: an exception at recording).
 */
right_index: boolean, left_index: boolean, };

export type PersonalisedView = { card_serial: string, masked_nik: MaskedNik, 
/**
 * The card face, `data:image/png;base64,...`, as the printer gets it.
 */
face_png: string, 
/**
 * Its PDF's size.
 */
pdf_bytes: number, };

export type ReissueCase = { case: CaseType, label: string, checklist: Array<ChecklistLine>, 
/**
 * Whether the new address is asked for (a move).
 */
needs_address: boolean, };

export type ReissueForm = { case: CaseType, nik: string, presented: Array<Document>, applicable: Array<Document>, new_address: string | null, };

export type ReissuedView = { request_id: string, masked_nik: MaskedNik, case_label: string, letter_bytes: number, };

export type PreviewDevice = "face" | "finger" | "iris";

export type Frame = { device: PreviewDevice, 
/**
 * Which preview it belongs to (the screen drops frames of an older one).
 */
preview: number, 
/**
 * `data:image/jpeg;base64,...`.
 */
src: string, };

/** The recording's steps in the SOP's order (`Step::ALL`). */
export const STEPS: readonly Step[] = ["documents", "biodata", "eligibility", "photo", "signature", "fingers", "irises", "index_verification", "dedup", "statement", "operator_finger", "seal"];

/** The cases' names (`CaseType::label`). */
export const CASE_LABELS: Record<CaseType, Record<Lang, string>> = {
  new_recording: { id: "Perekaman baru", en: "New recording" },
  home_visit: { id: "Perekaman di rumah (tim keliling)", en: "Home-visit recording (mobile team)" },
  replace_damaged: { id: "Penggantian KTP-el rusak", en: "Replacement of a damaged card" },
  lost_card: { id: "Penggantian KTP-el hilang", en: "Replacement of a lost card" },
  data_change: { id: "Perubahan data", en: "Data change" },
  moving_in: { id: "Pindah datang", en: "Moving in" },
  foreign_resident: { id: "KTP-el orang asing (KITAP)", en: "Foreign resident with a permanent stay permit (KITAP)" },
};
