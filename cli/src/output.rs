//! Printing: human text in the operator's language, or one JSON document on stdout.

use rekam::audit::AuditReport;
use rekam::domain::nik::{NikError, NikReport};
use rekam::domain::region::Region;
use rekam::i18n::{Lang, Localized};
use rekam::station::StationStatus;
use serde_json::json;
use std::process::ExitCode;

/// Exit codes, documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; what was checked is valid.
    Ok = 0,
    /// 1: what was checked or entered is invalid (a NIK, a broken audit chain, bad input).
    Invalid = 1,
    /// 3: the station cannot be used as asked (not set up, already set up, wrong key, newer
    /// schema, key file problem).
    Station = 3,
    /// 4: an unexpected failure (database or file system).
    Internal = 4,
    /// 5: the data center could not be reached, or refused.
    DataCenter = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Where output goes, and in which form.
#[derive(Debug)]
pub struct Out {
    json: bool,
    lang: Lang,
}

impl Out {
    pub fn new(json: bool, lang: Lang) -> Self {
        Out { json, lang }
    }

    fn t<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(id, en)
    }

    fn emit_json(&self, v: serde_json::Value) {
        println!(
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string())
        );
    }

    pub fn fail(&self, err: &anyhow::Error) -> ExitCode {
        let (code, message, exit) = super::describe(err, self.lang);
        tracing::debug!(error = %err, "command failed");
        if self.json {
            self.emit_json(json!({ "ok": false, "error": { "code": code, "message": message } }));
        } else {
            eprintln!("{}: {message} [{code}]", self.t("Gagal", "Failed"));
        }
        exit.into()
    }

    pub fn status(&self, s: &StationStatus, title: &str) {
        if self.json {
            self.emit_json(json!({ "ok": true, "status": s }));
            return;
        }
        println!("{title}");
        println!(
            "  {:<22} {}",
            self.t("ID stasiun", "Station id"),
            s.station_id
        );
        println!(
            "  {:<22} {} {}",
            self.t("Kecamatan", "Kecamatan"),
            s.kecamatan_code,
            s.region_path.join(" / ")
        );
        println!("  {:<22} {}", self.t("Dibuat", "Created"), s.created_at);
        println!(
            "  {:<22} {}",
            self.t("Direktori data", "Data directory"),
            s.data_dir.display()
        );
        println!(
            "  {:<22} {}",
            self.t("Versi skema", "Schema version"),
            s.schema_version
        );
        println!(
            "  {:<22} {} ({} {})",
            self.t("Rekaman tersimpan", "Recordings stored"),
            s.journal.entries,
            self.t("urutan terakhir", "last sequence"),
            s.journal.head_seq
        );
        println!(
            "  {:<22} {} ({}…)",
            self.t("Entri audit", "Audit entries"),
            s.audit_entries,
            &s.audit_head[..16]
        );
        println!(
            "  {:<22} {}",
            self.t("Terdaftar di DC", "Registered with DC"),
            s.data_center.as_deref().unwrap_or(self.t(
                "belum: jalankan `rekam register`",
                "not yet: run `rekam register`"
            ))
        );
        println!(
            "  {:<22} {}",
            self.t("Kunci stasiun", "Station key"),
            s.signing_key.as_deref().unwrap_or(self.t(
                "TIDAK TERBACA: hubungi teknisi",
                "UNREADABLE: call a technician"
            ))
        );
        let regions: Vec<String> = s
            .regions
            .iter()
            .map(|r| format!("{} {}", r.count, r.level.label(self.lang)))
            .collect();
        println!(
            "  {:<22} {}",
            self.t("Data wilayah", "Region data"),
            regions.join(", ")
        );
        println!("  {}", s.regions_attribution);
    }

    pub fn nik_report(&self, r: &NikReport) {
        if self.json {
            let warnings: Vec<_> = r
                .warnings
                .iter()
                .map(|w| json!({ "warning": w, "message": w.localized(self.lang) }))
                .collect();
            self.emit_json(json!({ "ok": true, "valid": true, "nik": r, "warnings": warnings }));
            return;
        }
        println!("NIK {}: {}", r.masked, self.t("sah", "valid"));
        println!(
            "  {:<26} {}",
            self.t("Jenis kelamin", "Sex"),
            r.sex.card_label()
        );
        let dates: Vec<String> = r
            .birth_date_candidates
            .iter()
            .map(|d| d.to_string())
            .collect();
        println!(
            "  {:<26} {}",
            self.t("Kemungkinan tanggal lahir", "Possible dates of birth"),
            dates.join(", ")
        );
        for line in &r.region {
            println!(
                "  {:<26} {} {}",
                capitalised(line.level.label(self.lang)),
                line.code,
                line.name
                    .as_deref()
                    .unwrap_or(self.t("(tidak dikenal)", "(unknown)"))
            );
        }
        println!("  {:<26} {:04}", self.t("Nomor urut", "Serial"), r.serial);
        for w in &r.warnings {
            println!(
                "{}: {}",
                self.t("Peringatan", "Warning"),
                w.localized(self.lang)
            );
        }
    }

    pub fn nik_invalid(&self, e: &NikError) {
        if self.json {
            self.emit_json(json!({
                "ok": true,
                "valid": false,
                "error": { "code": e.code(), "part": e.part(), "message": e.localized(self.lang) }
            }));
        } else {
            println!(
                "NIK {} ({}): {}",
                self.t("tidak sah", "invalid"),
                e.part().label(self.lang),
                e.localized(self.lang)
            );
        }
    }

    pub fn regions(&self, found: &[(Region, Vec<String>)]) {
        if self.json {
            let rows: Vec<_> = found
                .iter()
                .map(|(r, path)| {
                    json!({ "code": r.code, "level": r.level(), "name": r.name, "path": path })
                })
                .collect();
            self.emit_json(json!({ "ok": true, "regions": rows }));
            return;
        }
        if found.is_empty() {
            println!(
                "{}",
                self.t("Tidak ada wilayah yang cocok", "No matching region")
            );
        }
        for (r, path) in found {
            println!(
                "{:<14} {:<16} {}",
                r.code.dotted(),
                r.level().label(self.lang),
                path.join(" / ")
            );
        }
    }

    pub fn doctor(&self, found: &[rekam_drivers::survey::Finding]) {
        use rekam_drivers::DeviceKind;
        use rekam_drivers::survey::Note;
        let note = |n: Note| match n {
            Note::CardPresent => self.t("kartu ada di pembaca", "card present"),
            Note::NoCard => self.t("tidak ada kartu", "no card"),
        };
        let missing: Vec<DeviceKind> = [
            DeviceKind::Fingerprint,
            DeviceKind::Iris,
            DeviceKind::Face,
            DeviceKind::SignaturePad,
            DeviceKind::CardReader,
        ]
        .into_iter()
        // A kind already named in a finding (found, or looked for where it was told to be)
        // needs no second line.
        .filter(|k| !found.iter().any(|f| f.kind == *k))
        .collect();
        if self.json {
            let rows: Vec<_> = found
                .iter()
                .map(|f| {
                    json!({
                        "kind": f.kind,
                        "address": f.address,
                        "device": f.info,
                        "status": f.status,
                        "certificate": f.certificate,
                        "note": f.note.map(note),
                        "error": f.problem.as_ref().map(|e| json!({
                            "code": e.code(), "message": e.localized(self.lang)
                        })),
                    })
                })
                .collect();
            self.emit_json(json!({ "ok": true, "devices": rows, "not_found": missing }));
            return;
        }
        for f in found {
            let mut line = format!("{} {}:", f.kind.label(self.lang), f.address);
            if let Some(i) = &f.info {
                line.push_str(&format!(
                    " {} ({}, {} {}",
                    match f.status {
                        Some(rekam_drivers::DeviceStatus::Busy) => self.t("sibuk", "busy"),
                        Some(rekam_drivers::DeviceStatus::NotConnected) => {
                            self.t("tidak menjawab", "not answering")
                        }
                        _ => self.t("siap", "ready"),
                    },
                    i.model,
                    self.t("nomor seri", "serial"),
                    if i.serial.is_empty() { "-" } else { &i.serial },
                ));
                if !i.firmware.is_empty() {
                    line.push_str(&format!(", firmware {}", i.firmware));
                }
                line.push(')');
            }
            if let Some(n) = f.note {
                line.push_str(&format!(" {}", note(n)));
            }
            println!("{line}");
            if let Some(c) = &f.certificate {
                println!(
                    "    {} {} / {} {} / SHA-256 {} / {} {}",
                    self.t("sertifikat", "certificate"),
                    c.subject,
                    self.t("penerbit", "issuer"),
                    c.issuer,
                    c.fingerprint,
                    self.t("berlaku s.d.", "valid until"),
                    c.not_after
                );
            }
            if let Some(e) = &f.problem {
                println!("    {} [{}]", e.localized(self.lang), e.code());
            }
        }
        for k in missing {
            let hint = match k {
                DeviceKind::SignaturePad => self.t(
                    "tidak ada di /dev/ttyACM* atau /dev/ttyUSB*; sambungkan, atau sebutkan portnya dengan --pad",
                    "none at /dev/ttyACM* or /dev/ttyUSB*; plug one in, or name its port with --pad",
                ),
                DeviceKind::CardReader => self.t(
                    "tidak ada pembaca PC/SC; sambungkan, dan pastikan layanan pcscd berjalan",
                    "no PC/SC reader; plug one in and make sure the pcscd service runs",
                ),
                _ => self.t(
                    "tidak ada layanan SBI di 127.0.0.1:4501-4600; jalankan layanan perangkat dari vendor",
                    "no SBI service on 127.0.0.1:4501-4600; start the vendor's device service",
                ),
            };
            println!("{}: {hint}", k.label(self.lang));
        }
    }

    /// One sync pass.
    pub fn sync_pass(&self, r: &rekam::sync::PassReport) {
        if self.json {
            self.emit_json(json!({ "ok": true, "pass": r }));
            return;
        }
        if let Some(hub) = &r.hub {
            self.hub_pass(hub);
        }
        if !r.link_up {
            let (code, why) = r.error.clone().unwrap_or_default();
            println!(
                "{} [{code}] {why}. {}: {} {}",
                self.t("DC tidak terjangkau", "Data center unreachable"),
                self.t("Belum terkirim", "Not yet sent"),
                r.remaining,
                rekam::sync::next_step(&code, self.lang)
            );
            return;
        }
        println!(
            "{} {}, {} {}, {} {}, {} {}",
            self.t("Terkirim", "Sent"),
            r.sent,
            self.t("gagal", "failed"),
            r.failed,
            self.t("hasil DC", "data center results"),
            r.results,
            self.t("tersisa", "left"),
            r.remaining
        );
        if let Some((code, why)) = &r.error {
            println!(
                "  [{code}] {why}: {}",
                rekam::sync::next_step(code, self.lang)
            );
        }
        let re = &r.reissues;
        if re.queued + re.refused + re.waiting > 0 {
            println!(
                "{}: {} {}, {} {}, {} {} (rekam reissues)",
                self.t("Permohonan penggantian", "Reissue requests"),
                re.queued,
                self.t("diterima", "accepted"),
                re.refused,
                self.t("ditolak", "refused"),
                re.waiting,
                self.t("menunggu", "waiting"),
            );
        }
    }

    /// One pass with the kecamatan server.
    pub fn hub_pass(&self, p: &rekam::hub::HubPass) {
        if self.json {
            self.emit_json(json!({ "ok": p.error.is_none(), "hub": p }));
            return;
        }
        println!(
            "{} {}: {} {}, {} {}, {} {}",
            self.t("Server kecamatan", "Kecamatan server"),
            match &p.error {
                None => self.t("terhubung", "reachable").to_owned(),
                Some(code) => format!("{} [{code}]", self.t("tidak terjangkau", "unreachable")),
            },
            self.t("diterima", "taken"),
            p.enrolled,
            self.t("konflik baru", "new conflicts"),
            p.conflicts,
            self.t("menunggu", "waiting"),
            p.pending
        );
    }

    /// The conflicts the kecamatan server found.
    pub fn hub_conflicts(&self, list: &[rekam_packet::hub::Conflict]) {
        if self.json {
            self.emit_json(json!({ "ok": true, "conflicts": list }));
            return;
        }
        if list.is_empty() {
            println!("{}", self.t("Tidak ada konflik", "No conflicts"));
        }
        for c in list {
            println!(
                "#{} {} ({} {}) {} {} {} {}: {}",
                c.id,
                c.packet_id,
                c.station_id,
                c.masked_nik,
                self.t("cocok dengan", "matches"),
                c.earlier.packet_id.as_deref().unwrap_or("-"),
                self.t("di loket", "at counter"),
                c.earlier.station_id,
                self.t(
                    "periksa identitas keduanya dengan supervisor",
                    "a supervisor checks both identities"
                )
            );
        }
    }

    /// The reissue requests and where each stands.
    pub fn reissues(&self, lines: &[rekam::workflow::reissue::ReissueLine]) {
        if self.json {
            self.emit_json(json!({ "ok": true, "reissues": lines }));
            return;
        }
        if lines.is_empty() {
            println!(
                "{}",
                self.t("Belum ada permohonan penggantian", "No reissue request yet")
            );
        }
        for l in lines {
            let code = l
                .code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            println!(
                "{} {} {} {}: {}{code}",
                l.taken_on, l.request_id, l.case_label, l.masked_nik, l.state
            );
        }
    }

    /// The backlog.
    pub fn backlog(&self, lines: &[rekam::sync::BacklogLine]) {
        if self.json {
            self.emit_json(json!({ "ok": true, "backlog": lines }));
            return;
        }
        if lines.is_empty() {
            println!(
                "{}",
                self.t("Tidak ada data mengendap.", "Nothing is waiting.")
            );
            return;
        }
        for l in lines {
            let r = &l.row;
            println!(
                "{}{} {} {} {} {:>5} h  {} x{}{}  -> {}",
                if l.stuck { "! " } else { "  " },
                r.packet_id,
                r.masked_nik,
                r.case,
                r.state.as_str(),
                l.age_seconds / 3600,
                self.t("percobaan", "attempts"),
                r.attempts,
                r.last_code
                    .as_deref()
                    .or(l.pass_failure.as_deref())
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default(),
                l.next_step
            );
        }
    }

    /// The backlog's counts.
    pub fn backlog_summary(&self, v: &rekam::sync::BacklogSummaryView) {
        if self.json {
            self.emit_json(json!({ "ok": true, "summary": v }));
            return;
        }
        println!("{}", self.t("Menurut status:", "By state:"));
        for (s, n) in &v.by_state {
            println!("  {s:<22} {n}");
        }
        println!(
            "{}",
            self.t("Belum final, menurut umur:", "Not final, by age:")
        );
        for b in &v.by_age {
            println!("  {:<22} {}", b.age, b.count);
        }
        println!("{} {}", self.t("Mengendap:", "Stuck:"), v.stuck);
    }

    /// An export.
    pub fn export(&self, r: &rekam::export::ExportReport) {
        if self.json {
            self.emit_json(json!({ "ok": true, "export": r }));
            return;
        }
        println!(
            "{} {} {} ({:.1} MB, {} {}) {} {}{}",
            r.packets,
            self.t("paket diekspor", "packets exported"),
            self.t("ke", "to"),
            r.bytes as f64 / 1e6,
            r.written,
            self.t("ditulis baru", "newly written"),
            self.t("di", "in"),
            r.bundle.display(),
            if r.signed {
                ""
            } else {
                self.t(
                    " (manifes tanpa tanda tangan: kunci stasiun tidak ada)",
                    " (manifest unsigned: no station key)",
                )
            }
        );
        if r.reissues > 0 {
            println!(
                "{} {}",
                r.reissues,
                self.t(
                    "permohonan penggantian ikut (tersegel untuk pusat data)",
                    "reissue requests with them (sealed to the data center)"
                )
            );
        }
    }

    /// A receipts import.
    pub fn backup(&self, b: &rekam::backup::Made) {
        if self.json {
            self.emit_json(json!({ "ok": true, "backup": b }));
            return;
        }
        println!(
            "{} {}: {} {}, {} {} ({:.1} MB)",
            self.t("Cadangan dibuat di", "Backup made in"),
            b.dir.display(),
            b.manifest.recordings,
            self.t("rekaman", "recordings"),
            b.manifest.audit_entries,
            self.t("entri audit", "audit entries"),
            b.manifest.files.values().map(|f| f.bytes).sum::<u64>() as f64 / 1e6,
        );
        println!(
            "  {}",
            self.t(
                "Simpan frasa sandi terpisah dari disk ini: tanpanya cadangan tidak dapat dibuka",
                "Keep the passphrase apart from this disk: without it the backup cannot be opened",
            )
        );
    }

    pub fn restored(&self, r: &rekam::backup::Restored) {
        if self.json {
            self.emit_json(json!({ "ok": true, "restored": r }));
            return;
        }
        println!(
            "{} {} ({} {}): {} {}, integrity_check ok, {} {}",
            self.t("Dipulihkan dari cadangan", "Restored from the backup of"),
            r.manifest.station_id,
            self.t("dibuat", "made"),
            r.manifest.created_at,
            r.recordings,
            self.t("rekaman", "recordings"),
            r.audit_entries,
            self.t("entri audit utuh", "audit entries intact"),
        );
        if let rekam::backup::SigningKey::Replaced { in_backup, in_use } = &r.signing_key {
            println!(
                "{}",
                self.t(
                    &format!(
                        "PERHATIAN: kunci tanda tangan di cadangan ({in_backup}) sudah diganti \
                         dengan {in_use} setelah cadangan dibuat, jadi tidak dipulihkan: pusat \
                         data tidak menerimanya lagi. Rekaman utuh dan dapat dikirim lewat \
                         `rekam export`; untuk sinkronisasi dan merekam lagi, stasiun perlu \
                         kunci baru yang didaftarkan ke pusat data."
                    ),
                    &format!(
                        "WARNING: the backup's signing key ({in_backup}) was replaced by \
                         {in_use} after the backup was made, so it was not restored: the data \
                         center no longer accepts it. The recordings are intact and can be \
                         drained with `rekam export`; to sync and record again the station \
                         needs a new key registered with the data center."
                    ),
                )
            );
        }
    }

    pub fn receipts(&self, r: &rekam::export::ReceiptsReport) {
        if self.json {
            self.emit_json(json!({ "ok": r.invalid.is_empty(), "receipts": r }));
            return;
        }
        println!(
            "{} {}, {} {}",
            r.accepted,
            self.t(
                "paket kini terkirim (SENT_FOR_ENROLLMENT)",
                "packets now SENT_FOR_ENROLLMENT"
            ),
            r.already,
            self.t("sudah tercatat", "already recorded")
        );
        for (id, why) in &r.invalid {
            println!(
                "  {} {id}: {why}",
                self.t("TANDA TERIMA DITOLAK", "RECEIPT REFUSED")
            );
        }
        for (id, code, why) in &r.refused_by_dc {
            println!(
                "  {} {id} [{code}]: {why}",
                self.t("ditolak DC", "refused by the DC")
            );
        }
        if r.reissues_answered > 0 {
            println!(
                "{} {} (rekam reissues)",
                r.reissues_answered,
                self.t(
                    "permohonan penggantian dijawab pusat data",
                    "reissue requests answered by the data center"
                )
            );
        }
    }

    pub fn population_import(&self, r: &rekam::population::ImportReport) {
        if self.json {
            self.emit_json(json!({ "ok": true, "import": r }));
            return;
        }
        let kind = match r.kind {
            rekam::domain::population::ExtractKind::Base => self.t("ekstrak dasar", "base extract"),
            rekam::domain::population::ExtractKind::Delta => self.t("perubahan", "delta"),
        };
        println!(
            "{} {kind} no. {} ({} {}, {} {}): {} {}",
            self.t("Terpasang:", "Imported:"),
            r.sequence,
            self.t("per", "as of"),
            r.as_of,
            r.entries,
            self.t("entri", "entries"),
            r.residents,
            self.t("penduduk di stasiun", "residents on this station"),
        );
    }

    pub fn population_status(&self, s: Option<&rekam::population::ExtractStatus>) {
        if self.json {
            self.emit_json(json!({ "ok": true, "population": s }));
            return;
        }
        let Some(s) = s else {
            println!(
                "{}",
                self.t(
                    "Belum ada ekstrak data kependudukan: tanpa SIAK daring, biodata tidak bisa dibaca (rekam population import BERKAS)",
                    "No population extract yet: without SIAK online no biodata can be read (rekam population import FILE)"
                )
            );
            return;
        };
        println!("{}: {}", self.t("Wilayah", "Region"), s.region);
        if !s.villages.is_empty() {
            println!("{}: {}", self.t("Desa", "Villages"), s.villages.join(", "));
        }
        println!("{}: {}", self.t("Nomor", "Number"), s.sequence);
        println!("{}: {}", self.t("Penerbit", "Issuer"), s.issuer);
        println!(
            "{}: {} ({} {}{})",
            self.t("Data per", "As of"),
            s.as_of,
            s.age_days,
            self.t("hari", "days"),
            if s.stale {
                self.t(
                    ", KEDALUWARSA: minta ekstrak baru",
                    ", STALE: ask for a new extract",
                )
            } else {
                ""
            }
        );
        println!("{}: {}", self.t("Penduduk", "Residents"), s.residents);
        println!("{}: {}", self.t("Diimpor", "Imported"), s.imported_at);
    }

    pub fn calibration(&self, calibrated: &rekam::calibration::Calibrated) {
        use rekam::calibration::{MAX_FNMR, TARGET_FMR, Verdict};
        let (c, skipped) = (&calibrated.result, &calibrated.skipped);
        let (verdict, needed) = match c.verdict {
            Verdict::Ready => ("ready", None),
            Verdict::TooFewPairs {
                genuine_needed,
                impostors_needed,
            } => ("too_few_pairs", Some((genuine_needed, impostors_needed))),
            Verdict::TooManyRefused => ("too_many_refused", None),
            Verdict::TooManyAccepted => ("too_many_accepted", None),
        };
        if self.json {
            self.emit_json(json!({ "ok": c.verdict == Verdict::Ready, "calibration": {
                "verdict": verdict,
                "people": c.people, "captures": c.captures, "below_gate": c.below_gate,
                "gate": c.gate, "threshold": c.threshold,
                "genuine": c.genuine, "refused": c.refused, "fnmr": c.fnmr,
                "impostors": c.impostors, "accepted": c.accepted, "fmr": c.fmr,
                "fmr_upper_95": c.fmr_upper,
                "derived_threshold": c.derived, "fnmr_at_derived": c.fnmr_at_derived,
                "genuine_needed": needed.map(|n| n.0), "impostors_needed": needed.map(|n| n.1),
                "gates": c.gates.iter().map(|g| json!({
                    "gate": g.gate, "retakes": g.retakes, "genuine": g.genuine, "fnmr": g.fnmr,
                })).collect::<Vec<_>>(),
                "skipped": skipped,
            }}));
            return;
        }
        println!(
            "{} {}, {} {} ({} {} {})",
            c.people,
            self.t("relawan", "volunteers"),
            c.captures,
            self.t("rekaman", "captures"),
            c.below_gate,
            self.t("di bawah ambang mutu", "below the quality gate"),
            c.gate
        );
        if !skipped.is_empty() {
            println!(
                "{}: {}",
                self.t("Tidak dibaca (bukan .png)", "Not read (not .png)"),
                skipped.join(", ")
            );
        }
        println!(
            "{} {}: {} {} {} {} ({:.2}%)",
            self.t("Ambang jari", "Finger threshold"),
            c.threshold,
            c.refused,
            self.t("dari", "of"),
            c.genuine,
            self.t("pasangan asli ditolak", "genuine pairs refused"),
            100.0 * c.fnmr
        );
        println!(
            "{} {} {} {} ({:.1e}; {} {:.1e})",
            c.accepted,
            self.t("dari", "of"),
            c.impostors,
            self.t("pasangan orang berbeda diterima", "impostor pairs accepted"),
            c.fmr,
            self.t("paling tinggi, 95%:", "at most, 95%:"),
            c.fmr_upper
        );
        if let (Some(t), Some(f)) = (c.derived, c.fnmr_at_derived) {
            println!(
                "{} {TARGET_FMR:e}: {t} ({:.2}% {})",
                self.t(
                    "Ambang dari rekaman ini pada FMR",
                    "Threshold these captures give at FMR"
                ),
                100.0 * f,
                self.t("pasangan asli ditolak", "genuine refused")
            );
        }
        println!(
            "{}",
            self.t(
                "Ambang mutu: rekaman diulang, lalu pasangan asli ditolak",
                "Quality gate: captures retaken, then genuine pairs refused"
            )
        );
        for g in &c.gates {
            println!(
                "  {:>3}: {:>5.1}% {}, {:.2}% {} {} ({})",
                g.gate,
                100.0 * g.retakes,
                self.t("diulang", "retaken"),
                100.0 * g.fnmr,
                self.t("dari", "of"),
                g.genuine,
                self.t("pasangan asli ditolak", "genuine pairs refused"),
            );
        }
        let advice = match c.verdict {
            Verdict::Ready => self
                .t(
                    "SIAP: ambang bekerja pada pemindai ini; simpan hasil ini dengan berita acara",
                    "READY: the threshold works on these scanners; keep this result with the minutes",
                )
                .to_string(),
            Verdict::TooFewPairs {
                genuine_needed,
                impostors_needed,
            } => format!(
                "{} {genuine_needed} {} {impostors_needed} {}",
                self.t("BELUM CUKUP: perlu", "NOT ENOUGH YET: need"),
                self.t(
                    "pasangan asli dan",
                    "more genuine pairs and"
                ),
                self.t(
                    "pasangan orang berbeda lagi; rekam lebih banyak relawan, dua sesi",
                    "more impostor pairs; capture more volunteers, two sessions each"
                )
            ),
            Verdict::TooManyRefused => format!(
                "{} {:.0}%: {}",
                self.t("JANGAN MULAI OPERASI: lebih dari", "DO NOT GO LIVE: more than"),
                100.0 * MAX_FNMR,
                self.t(
                    "jari asli ditolak; periksa pemindai dan cara perekaman, laporkan hasil ini ke Dinas",
                    "of genuine fingers refused; check the scanners and the capture practice, report this to the Dinas"
                )
            ),
            Verdict::TooManyAccepted => self
                .t(
                    "JANGAN MULAI OPERASI: sidik jari orang berbeda lolos terlalu sering; laporkan hasil ini ke Dinas",
                    "DO NOT GO LIVE: different people's fingers pass too often; report this to the Dinas",
                )
                .to_string(),
        };
        println!("{advice}");
    }

    /// A one-line result.
    pub fn message(&self, text: &str) {
        if self.json {
            self.emit_json(json!({ "ok": true, "message": text }));
        } else {
            println!("{text}");
        }
    }

    pub fn audit(&self, r: &AuditReport) {
        if self.json {
            self.emit_json(json!({ "ok": true, "intact": r.is_intact(), "report": r }));
            return;
        }
        match &r.first_break {
            None => println!(
                "{} {} {}",
                self.t("Rantai audit utuh:", "Audit chain intact:"),
                r.entries,
                self.t("entri terverifikasi", "entries verified")
            ),
            Some(b) => println!(
                "{} {}. {}",
                self.t("RANTAI AUDIT RUSAK:", "AUDIT CHAIN BROKEN:"),
                b.localized(self.lang),
                self.t(
                    "Jangan ubah apa pun; laporkan ke Dinas beserta salinan direktori data.",
                    "Change nothing; report it to the Dinas with a copy of the data directory."
                )
            ),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
