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
 * Result events applied, from the data center or (out of its reach) through the hub.
 */
results: number, 
/**
 * Recordings still due after the pass.
 */
remaining: number, 
/**
 * The pass's first failure, code and words.
 */
error: [string, string] | null, 
/**
 * What the pass did with the kecamatan server, at a station registered with one.
 */
hub: HubPass | null, 
/**
 * Population extracts imported from SIAK online in this pass.
 */
population: number, 
/**
 * Reissue requests the data center answered in this pass, and those still waiting.
 */
reissues: Sent, };

export type HubPass = { 
/**
 * Recordings the hub took into its gallery.
 */
enrolled: number, 
/**
 * Conflicts received for the first time.
 */
conflicts: number, 
/**
 * Recordings still waiting for the hub.
 */
pending: number, 
/**
 * Other counters' recordings added to this counter's copy of the kecamatan's gallery.
 */
copied: number, 
/**
 * Sealed packets left with the hub for the data center in this pass (the data center
 * was out of reach).
 */
relayed: number, 
/**
 * Receipts the hub brought back for packets left with it, verified.
 */
relay_receipts: number, 
/**
 * Population extracts imported from the hub (the Dinas's, verified here).
 */
population: number, 
/**
 * The data center's results read through the hub (the data center out of reach),
 * verified against its pinned identity.
 */
results: number, 
/**
 * Why the pass stopped early (the hub's or the link's code).
 */
error: string | null, };

export type Sent = { 
/**
 * Requests answered and queued for a new card.
 */
queued: number, 
/**
 * Requests answered with a refusal (each kept with its reason).
 */
refused: number, 
/**
 * Requests still waiting (the data center refused the message itself, or the link
 * dropped): sent again at the next pass.
 */
waiting: number, };

export type CheckedView = { 
/**
 * Whether the whole kecamatan was compared (false: this station only).
 */
kecamatan: boolean, 
/**
 * In the operator's language.
 */
label: string, };

export type ConflictView = { 
/**
 * The hub's number.
 */
id: number, 
/**
 * In the operator's language: which two recordings, where, what to do.
 */
text: string, };

export type LastPass = { 
/**
 * When it ended (RFC 3339, station time).
 */
at: string, 
/**
 * What it did.
 */
report: PassReport, };

export type Problem = { 
/**
 * Stable code.
 */
code: string, 
/**
 * In the operator's language.
 */
message: string, };

export type RegionLevel = "province" | "regency" | "kecamatan" | "village";

export type JournalStats = { 
/**
 * Rows.
 */
entries: number, 
/**
 * Highest sequence number ever given (0 when none).
 */
head_seq: number, };

export type RegionCount = { 
/**
 * The level.
 */
level: RegionLevel, 
/**
 * How many.
 */
count: number, };

export type StationStatus = { 
/**
 * Station id.
 */
station_id: string, 
/**
 * Kecamatan code (dotted).
 */
kecamatan_code: string, 
/**
 * Kecamatan name.
 */
kecamatan_name: string | null, 
/**
 * Province, regency, kecamatan names.
 */
region_path: Array<string>, 
/**
 * Set up at.
 */
created_at: string, 
/**
 * Data directory.
 */
data_dir: string, 
/**
 * Schema version of the database.
 */
schema_version: number, 
/**
 * Recordings held.
 */
journal: JournalStats, 
/**
 * Audit entries.
 */
audit_entries: number, 
/**
 * Hash of the last audit entry (hex).
 */
audit_head: string, 
/**
 * The data center the station is registered with, if any.
 */
data_center: string | null, 
/**
 * The id of the station's signing key (`None` when its key file is unreadable).
 */
signing_key: string | null, 
/**
 * Regions held, by level.
 */
regions: Array<RegionCount>, 
/**
 * Attribution of the region data (ODbL).
 */
regions_attribution: string, };

export type ExtractStatus = { 
/**
 * Its kecamatan.
 */
region: string, 
/**
 * The desa it is limited to; empty: the whole kecamatan.
 */
villages: Array<string>, 
/**
 * Its number in the series.
 */
sequence: number, 
/**
 * The time its data is as of (RFC 3339).
 */
as_of: string, 
/**
 * Who issued it.
 */
issuer: string, 
/**
 * When it was imported here (RFC 3339).
 */
imported_at: string, 
/**
 * Residents it holds.
 */
residents: number, 
/**
 * Whole days since its data's time.
 */
age_days: number, 
/**
 * Whether it is older than [`STALE_AFTER_DAYS`].
 */
stale: boolean, };

export type BacklogCounts = { 
/**
 * Not yet final.
 */
open: number, 
/**
 * Not yet at the data center.
 */
unsent: number, 
/**
 * Past the SOP's 24 hours.
 */
stuck: number, };

export type HomeView = { 
/**
 * The station's identity, store and master data.
 */
status: StationStatus, 
/**
 * The backlog's counts.
 */
backlog: BacklogCounts, 
/**
 * The Dinas's population extract in force, if any.
 */
population: ExtractStatus | null, };

export type SyncState = "BIO_CAPTURED" | "UPLOADING" | "EXPORTED" | "SENT_FOR_ENROLLMENT" | "PRINT_READY_RECORD" | "DUPLICATE_RECORD" | "ADJUDICATE_RECORD";

export type Clarified = "RECORDED_BEFORE" | "DISPUTED";

export type BacklogRow = { 
/**
 * Journal position.
 */
seq: number, 
/**
 * The packet id.
 */
packet_id: string, 
/**
 * The resident, masked (first 6 and last 2 digits).
 */
masked_nik: MaskedNik, 
/**
 * The case.
 */
case: string, 
/**
 * When it was recorded (RFC 3339).
 */
captured_at: string, 
/**
 * Its state.
 */
state: SyncState, 
/**
 * Bytes at the data center while uploading.
 */
upload_offset: number, 
/**
 * Attempts to send it.
 */
attempts: number, 
/**
 * The last failure's code.
 */
last_code: string | null, 
/**
 * The last failure, or the data center's reason.
 */
last_reason: string | null, 
/**
 * When the next attempt is due, Unix seconds.
 */
next_retry_at: number | null, 
/**
 * For a duplicate or an adjudication: the packet it matched.
 */
matched_packet: string | null, };

export type BacklogLine = { 
/**
 * Seconds since it was recorded.
 */
age_seconds: number, 
/**
 * Whether it is stuck: not at the data center after `stuck_after`, or its last attempt
 * failed for a reason that will not fix itself.
 */
stuck: boolean, 
/**
 * What a person should do.
 */
next_step: string, 
/**
 * Why the last pass failed, when it failed before reaching this record (a dead link):
 * the record has no failure of its own, yet it waits for this.
 */
pass_failure: string | null, 
/**
 * Journal position.
 */
seq: number, 
/**
 * The packet id.
 */
packet_id: string, 
/**
 * The resident, masked (first 6 and last 2 digits).
 */
masked_nik: MaskedNik, 
/**
 * The case.
 */
case: string, 
/**
 * When it was recorded (RFC 3339).
 */
captured_at: string, 
/**
 * Its state.
 */
state: SyncState, 
/**
 * Bytes at the data center while uploading.
 */
upload_offset: number, 
/**
 * Attempts to send it.
 */
attempts: number, 
/**
 * The last failure's code.
 */
last_code: string | null, 
/**
 * The last failure, or the data center's reason.
 */
last_reason: string | null, 
/**
 * When the next attempt is due, Unix seconds.
 */
next_retry_at: number | null, 
/**
 * For a duplicate or an adjudication: the packet it matched.
 */
matched_packet: string | null, };

export type StepLine = { 
/**
 * The standard's group (`queue`, `documents`, `recording`, `handover`, ...).
 */
step: string, 
/**
 * Visits that went through it.
 */
visits: number, 
/**
 * Median seconds per visit.
 */
median_seconds: number, 
/**
 * Slowest visit, seconds.
 */
max_seconds: number, 
/**
 * The SOP's standard, seconds, if it sets one.
 */
standard_seconds: number | null, 
/**
 * Visits within the standard.
 */
within_standard: number, };

export type DailyReport = { 
/**
 * The station.
 */
station_id: string, 
/**
 * The day (station time).
 */
day: string, 
/**
 * Time per step against the SOP.
 */
steps: Array<StepLine>, 
/**
 * Visits by workflow, then outcome.
 */
visits: { [key in string]: { [key in string]: number } }, 
/**
 * Visits by case, then outcome.
 */
cases: { [key in string]: { [key in string]: number } }, 
/**
 * Refusals and failures by code.
 */
refusals: { [key in string]: number }, 
/**
 * Recordings by sync state (all days: the backlog is what is still at the station).
 */
sync_states: { [key in string]: number }, 
/**
 * Recordings not yet at the data center.
 */
backlog: number, 
/**
 * Of those, stuck ("mengendap") longer than the threshold.
 */
stuck: number, };

export type Space = { 
/**
 * Bytes an unprivileged writer may still use.
 */
free_bytes: number, 
/**
 * The filesystem's size.
 */
total_bytes: number, };

export type Target = { 
/**
 * The mount point.
 */
path: string, 
/**
 * Bytes an unprivileged writer may still use.
 */
free_bytes: number, 
/**
 * The filesystem's size.
 */
total_bytes: number, };

export type ExportReport = { 
/**
 * The bundle directory.
 */
bundle: string, 
/**
 * Packets in the bundle.
 */
packets: number, 
/**
 * Reissue requests in the bundle (sealed to the data center).
 */
reissues: number, 
/**
 * Files written by this run (the rest were on the disk, whole, from an interrupted run).
 */
written: number, 
/**
 * Bytes of the packets.
 */
bytes: number, 
/**
 * Whether the manifest is signed by the station.
 */
signed: boolean, };

export type ReceiptsReport = { 
/**
 * Packets now SENT_FOR_ENROLLMENT.
 */
accepted: number, 
/**
 * Receipts for packets already further along.
 */
already: number, 
/**
 * Receipts refused here: (packet id, why).
 */
invalid: Array<[string, string]>, 
/**
 * Packets the data center refused: (packet id, code, words).
 */
refused_by_dc: Array<[string, string, string]>, 
/**
 * Reissue requests answered by the file (queued or refused: `rekam reissues`).
 */
reissues_answered: number, };

export type StationSettings = { 
/**
 * Its id.
 */
station_id: string, 
/**
 * Its kecamatan's code and names.
 */
kecamatan: string, 
/**
 * Its data directory.
 */
data_dir: string, 
/**
 * Its signing key's fingerprint.
 */
signing_key: string | null, 
/**
 * Space on the data directory's filesystem.
 */
space: Space | null, };

export type DataCenterSettings = { 
/**
 * The data center's id, once registered.
 */
dc_id: string | null, 
/**
 * The address registered with.
 */
registered_url: string | null, 
/**
 * The address this app syncs to.
 */
sync_url: string | null, };

export type DeviceSettings = { 
/**
 * Serial ports a pad is looked for on.
 */
pad_ports: Array<string>, 
/**
 * SBI services' ports.
 */
sbi_ports: string, 
/**
 * The device providers' CA certificates.
 */
sbi_trust: string | null, 
/**
 * The card reader.
 */
card_reader: string | null, 
/**
 * The CSCA certificate.
 */
card_csca: string | null, 
/**
 * The document signer's certificate chain.
 */
document_signer: string | null, };

export type SettingsView = { 
/**
 * The station.
 */
station: StationSettings, 
/**
 * Its data center.
 */
data_center: DataCenterSettings, 
/**
 * Where its devices are looked for.
 */
devices: DeviceSettings, 
/**
 * SIAK's address.
 */
siak_url: string | null, 
/**
 * The Dinas's population extract in force, if any.
 */
population: ExtractStatus | null, 
/**
 * Whether training mode is on.
 */
training: boolean, 
/**
 * The station's default language.
 */
lang: Lang, };

export type UiConfig = { 
/**
 * The station's default language (`REKAM_LANG`, else Bahasa Indonesia); an operator's own
 * choice on the screen overrides it.
 */
lang: Lang, 
/**
 * Whether training mode is on (the screen then offers its panel).
 */
training: boolean, };

export type TraineeResident = { 
/**
 * The generator's index.
 */
index: number, 
/**
 * The NIK on their family card (synthetic), if any.
 */
nik: string | null, 
/**
 * The name they give.
 */
name: string, 
/**
 * Born on (ISO 8601).
 */
birth_date: string, 
/**
 * What their visit was generated to show, if anything special.
 */
edge_case: string | null, 
/**
 * The recording case to open for them (a foreign resident's, or a new recording).
 */
case: CaseType | null, };

export type SessionView = { 
/**
 * Their id.
 */
operator_id: string, 
/**
 * Their name.
 */
name: string, 
/**
 * Their role.
 */
role: string, 
/**
 * What the role may do (`serve`, `approve`, `maintain`, `personalise`, `report`): the
 * screens the navigation offers. The core checks again on every command.
 */
may: Array<string>, };

export type ChecklistLine = { 
/**
 * The document.
 */
document: Document, 
/**
 * Its name.
 */
label: string, 
/**
 * Whether every resident of the case brings it.
 */
required: boolean, 
/**
 * When it applies, if only sometimes.
 */
condition: string | null, };

export type BiodataView = { 
/**
 * The NIK, whole: the resident checks it digit by digit (never logged).
 */
nik: string, 
/**
 * The name.
 */
name: string, 
/**
 * Place and date of birth.
 */
birth: string, 
/**
 * Sex, as the card prints it.
 */
sex: string, 
/**
 * Street, RT/RW and the region's names.
 */
address: string, 
/**
 * Religion.
 */
religion: string, 
/**
 * Marital status.
 */
marital_status: string, 
/**
 * Occupation.
 */
occupation: string, 
/**
 * WNI, or WNA with the KITAP.
 */
citizenship: string, };

export type SealedView = { 
/**
 * The queue number.
 */
queue_number: string, 
/**
 * The packet id (printed and as a QR code on the letter).
 */
packet_id: string, 
/**
 * The masked NIK.
 */
masked_nik: MaskedNik, 
/**
 * The resident's name.
 */
name: string, 
/**
 * The packet id's QR code, SVG.
 */
qr_svg: string, 
/**
 * The letter's PDF size.
 */
letter_bytes: number, };

export type SourceView = { 
/**
 * In the operator's language, with the data's age.
 */
label: string, 
/**
 * Whether it came from the station's extract, not SIAK online.
 */
offline: boolean, 
/**
 * Whole days since the extract's data (none for SIAK online).
 */
age_days: number | null, 
/**
 * Whether the extract is older than the station allows without a flag.
 */
stale: boolean, };

export type Progress = { 
/**
 * Positions captured at the quality gate.
 */
captured: Array<number>, 
/**
 * Positions recorded as exceptions.
 */
exceptions: Array<number>, 
/**
 * Positions still to do.
 */
pending: Array<number>, };

export type PrintQueueLine = { 
/**
 * The record (what the print order is fetched by).
 */
packet_id: string, 
/**
 * The resident, masked.
 */
masked_nik: string, 
/**
 * Where it was recorded: the kecamatan's name and the station.
 */
recorded_at: string, 
/**
 * When it became ready to print (date).
 */
ready_on: string, 
/**
 * Why the last card made for it came back, when one did.
 */
returned: string | null, };

export type ReissueLine = { 
/**
 * The request (the temporary letter names it).
 */
request_id: string, 
/**
 * The case, in words.
 */
case_label: string, 
/**
 * The resident, masked.
 */
masked_nik: string, 
/**
 * When it was taken (date).
 */
taken_on: string, 
/**
 * Where it stands, as a sentence.
 */
state: string, 
/**
 * The data center's refusal code, for a technician (`None` while waiting or once queued).
 */
code: string | null, };

export type EyeName = "right" | "left";

export type Outcome = { "kind": "done" } | { "kind": "score", "value": number } | { "kind": "fingers", "value": Progress } | { "kind": "irises", "value": Progress } | { "kind": "verified", "value": { 
/**
 * The right index finger.
 */
right: number, 
/**
 * The left index finger.
 */
left: number, } } | { "kind": "finger_exception", "value": number } | { "kind": "iris_exception", "value": EyeName };

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
 * The biodata read by NIK.
 */
biodata: BiodataView | null, 
/**
 * Who answered for the biodata (SIAK online, or the Dinas's extract and how old).
 */
biodata_source: SourceView | null, 
/**
 * What the last step gave (a score, where the fingers stand), for the screen to show.
 */
last: Outcome | null, 
/**
 * Why the visit ended without a recording (the resident refused at eligibility or
 * de-duplication): the screen keeps it until the operator closes it.
 */
refused: Problem | null, 
/**
 * Whether the operator cancelled the recording.
 */
cancelled: boolean, 
/**
 * The sealed recording, once sealed.
 */
sealed: SealedView | null, 
/**
 * What the de-duplication compared the person with beyond this station (a station with
 * a kecamatan server): the whole kecamatan, or this station only when the hub did not
 * answer.
 */
kecamatan: CheckedView | null, };

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
password: Password, 
/**
 * Whether the old KTP was surrendered.
 */
old_ktp_surrendered: boolean, } | { "action": "receipt", 
/**
 * Whether the resident surrendered an old KTP.
 */
old_ktp_withdrawn: boolean, };

export type HandedOverView = { 
/**
 * The chip serial.
 */
card_serial: string, 
/**
 * `berhasil` or `dispensasi`.
 */
verification: string, 
/**
 * The receipt's PDF size.
 */
receipt_bytes: number, };

export type HandoverView = { 
/**
 * The summons letter's queue number, when the resident has it.
 */
queue_number: string | null, 
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
refused: Problem | null, };

export type SyncView = { 
/**
 * The data center this app syncs to, if given.
 */
dc_url: string | null, 
/**
 * Whether this app runs a background sync.
 */
running: boolean, 
/**
 * The last pass (this app's or a `rekam sync` beside it).
 */
last_pass: LastPass | null, 
/**
 * What to do about the last pass's error, in the operator's language.
 */
last_pass_next: string | null, 
/**
 * Records per sync state.
 */
by_state: { [key in string]: number }, 
/**
 * Records in all.
 */
total: number, 
/**
 * Records the data center holds.
 */
at_dc: number, 
/**
 * Records on a technician's disk.
 */
exported: number, 
/**
 * Whether the station is registered with a kecamatan server.
 */
hub: boolean, 
/**
 * The conflicts the kecamatan server found (a person recorded at two counters), for
 * the supervisor.
 */
hub_conflicts: Array<ConflictView>, };

export type ExportProgress = { done: number, total: number, bytes: number, };

export type ImportProgress = { done: number, total: number, };

export type DeviceView = { 
/**
 * What kind of device.
 */
kind: DeviceKind, 
/**
 * Its name for an operator.
 */
label: string, 
/**
 * `ready`, `problem`, or `no_driver`.
 */
state: string, 
/**
 * Identity when ready, what to do otherwise.
 */
detail: string, };

export type PrintOrderView = { 
/**
 * The packet id.
 */
packet_id: string, 
/**
 * What the chip will hold.
 */
biodata: BiodataView, 
/**
 * Whether the right index finger's template is in the order.
 */
right_index: boolean, 
/**
 * Whether the left index finger's template is in the order.
 */
left_index: boolean, };

export type PersonalisedView = { 
/**
 * The chip serial.
 */
card_serial: string, 
/**
 * The masked NIK.
 */
masked_nik: MaskedNik, 
/**
 * The card face, as a `data:image/png;base64,` URL.
 */
face_png: string, 
/**
 * The card face's PDF size.
 */
pdf_bytes: number, };

export type ReissueCase = { 
/**
 * The case.
 */
case: CaseType, 
/**
 * Its name.
 */
label: string, 
/**
 * Its documents.
 */
checklist: Array<ChecklistLine>, 
/**
 * Whether the new address is asked for (a move).
 */
needs_address: boolean, };

export type ReissueForm = { 
/**
 * The case.
 */
case: CaseType, 
/**
 * The NIK as typed (separators allowed).
 */
nik: string, 
/**
 * Documents presented.
 */
presented: Array<Document>, 
/**
 * Conditional documents that apply.
 */
applicable: Array<Document>, 
/**
 * The new address, for a move.
 */
new_address: string | null, };

export type ReissuedView = { 
/**
 * The request's id.
 */
request_id: string, 
/**
 * The masked NIK.
 */
masked_nik: MaskedNik, 
/**
 * The case's name.
 */
case_label: string, 
/**
 * The temporary letter's PDF size.
 */
letter_bytes: number, };

export type ExtractKind = "base" | "delta";

export type ImportReport = { 
/**
 * Base or delta.
 */
kind: ExtractKind, 
/**
 * Its number.
 */
sequence: number, 
/**
 * Entries applied.
 */
entries: number, 
/**
 * Residents held afterwards.
 */
residents: number, 
/**
 * The time its data is as of (RFC 3339).
 */
as_of: string, };

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

/** The recording's steps' names (`Step::label`). */
export const STEP_LABELS: Record<Step, Record<Lang, string>> = {
  documents: { id: "Dokumen", en: "Documents" },
  biodata: { id: "Biodata (NIK)", en: "Biodata (NIK)" },
  eligibility: { id: "Konfirmasi & kelayakan", en: "Confirmation & eligibility" },
  photo: { id: "Foto", en: "Photo" },
  signature: { id: "Tanda tangan", en: "Signature" },
  fingers: { id: "Sidik jari 4-4-2", en: "Fingerprints 4-4-2" },
  irises: { id: "Iris", en: "Irises" },
  index_verification: { id: "Verifikasi telunjuk", en: "Index verification" },
  dedup: { id: "Cek data ganda", en: "Duplicate check" },
  statement: { id: "Tanda tangan pernyataan", en: "Statement signature" },
  operator_finger: { id: "Sidik jari operator", en: "Operator's finger" },
  seal: { id: "Segel & simpan", en: "Seal & store" },
  ended: { id: "Selesai", en: "Done" },
};

/** The handover's steps' names (`handover::Step::label`). */
export const HANDOVER_STEP_LABELS: Record<string, Record<Lang, string>> = {
  card: { id: "Baca kartu", en: "Read the card" },
  chip_data: { id: "Cek data chip", en: "Check the chip's data" },
  handover_verification: { id: "Verifikasi sidik jari", en: "Fingerprint check" },
  receipt: { id: "Tanda terima", en: "Receipt" },
  ended: { id: "Selesai", en: "Done" },
};

/** ISO/IEC 19794-4 finger positions' names (`Finger::label`). */
export const FINGER_LABELS: Record<number, Record<Lang, string>> = {
  1: { id: "ibu jari kanan", en: "right thumb" },
  2: { id: "telunjuk kanan", en: "right index" },
  3: { id: "jari tengah kanan", en: "right middle" },
  4: { id: "jari manis kanan", en: "right ring" },
  5: { id: "kelingking kanan", en: "right little" },
  6: { id: "ibu jari kiri", en: "left thumb" },
  7: { id: "telunjuk kiri", en: "left index" },
  8: { id: "jari tengah kiri", en: "left middle" },
  9: { id: "jari manis kiri", en: "left ring" },
  10: { id: "kelingking kiri", en: "left little" },
};

/** The irises' positions (1 right, 2 left) and names (`EyeName::label`). */
export const EYE_LABELS: Record<number, Record<Lang, string>> = {
  1: { id: "iris kanan", en: "right iris" },
  2: { id: "iris kiri", en: "left iris" },
};

/** What each command answers (`invoke`'s result; a failure is a `Problem`). */
export interface Commands {
  station_status: HomeView;
  device_status: Array<DeviceView>;
  backlog: Array<BacklogLine>;
  login: SessionView;
  unlock: SessionView;
  logout: null;
  lock_screen: null;
  session: SessionView | null;
  recording_current: WizardView | null;
  recording_close: null;
  recording: WizardView;
  training_roster: Array<TraineeResident>;
  training_present: null;
  ui_config: UiConfig;
  ui_rendered: null;
  handover: HandoverView;
  handover_current: HandoverView | null;
  handover_close: null;
  sync_status: SyncView;
  sync_now: null;
  export_targets: Array<Target>;
  export: ExportReport;
  import_receipts: ReceiptsReport;
  clarify: null;
  population_files: Array<string>;
  population_import: ImportReport;
  daily_report: DailyReport;
  settings: SettingsView;
  preview_start: number;
  preview_stop: null;
  reissue_checklist: Array<ReissueCase>;
  reissue: ReissuedView;
  reissue_requests: Array<ReissueLine>;
  print_queue: Array<PrintQueueLine>;
  print_order: PrintOrderView;
  card_returned: string;
  personalise: PersonalisedView;
}
