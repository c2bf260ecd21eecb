//! The screen's TypeScript types, generated from the views and actions this shell exchanges
//! with it (ts-rs), into `ui/src/bindings.ts`. A unit test renders them afresh and fails when
//! the committed file differs, so a Rust change that would break the screen fails the build
//! that tests it; `REKAM_BLESS=1 cargo test -p rekam-desktop bindings` writes the new file,
//! and the screen's compiler then says what to change there.

use ts_rs::{Config, TS};

/// The committed file, relative to this crate.
pub const FILE: &str = "../ui/src/bindings.ts";

/// Every type the screen sees, dependencies first.
fn declarations() -> Vec<String> {
    // Counts and ids arrive as JSON numbers: `number` on the screen, not `bigint`.
    let cfg = Config::new().with_large_int("number");
    macro_rules! decls {
        ($($t:ty),+ $(,)?) => { vec![$(<$t as TS>::decl(&cfg)),+] };
    }
    decls![
        rekam::i18n::Lang,
        rekam::domain::case::CaseType,
        rekam::domain::case::Document,
        rekam::packet::ExceptionReason,
        rekam::domain::nik::MaskedNik,
        rekam_drivers::DeviceKind,
        rekam::workflow::recording::Step,
        rekam::sync::PassReport,
        rekam::hub::HubPass,
        rekam::workflow::reissue::Sent,
        rekam::hub::CheckedView,
        rekam::hub::ConflictView,
        rekam::sync::LastPass,
        rekam::desk::Problem,
        rekam::domain::region::RegionLevel,
        rekam::store::JournalStats,
        rekam::station::RegionCount,
        rekam::station::StationStatus,
        rekam::population::ExtractStatus,
        rekam::desk::BacklogCounts,
        rekam::desk::HomeView,
        rekam::store::SyncState,
        rekam::desk::Clarified,
        rekam::store::BacklogRow,
        rekam::sync::BacklogLine,
        rekam::report::StepLine,
        rekam::report::DailyReport,
        rekam::disk::Space,
        rekam::disk::Target,
        rekam::export::ExportReport,
        rekam::export::ReceiptsReport,
        rekam::desk::StationSettings,
        rekam::desk::DataCenterSettings,
        rekam::desk::DeviceSettings,
        rekam::desk::SettingsView,
        crate::UiConfig,
        crate::training::TraineeResident,
        rekam::desk::SessionView,
        rekam::desk::ChecklistLine,
        rekam::desk::BiodataView,
        rekam::desk::SealedView,
        rekam::desk::SourceView,
        rekam::workflow::recording::Progress,
        rekam::desk::PrintQueueLine,
        rekam::desk::ReissueLine,
        rekam::workflow::counter::EyeName,
        rekam::workflow::counter::Outcome,
        rekam::desk::WizardView,
        rekam::workflow::counter::Password,
        rekam::workflow::counter::Action,
        rekam::desk::HandoverAction,
        rekam::desk::HandedOverView,
        rekam::desk::HandoverView,
        rekam::desk::SyncView,
        crate::back_office::ExportProgress,
        crate::back_office::ImportProgress,
        rekam::desk::DeviceView,
        rekam::desk::PrintOrderView,
        rekam::desk::PersonalisedView,
        rekam::desk::ReissueCase,
        rekam::desk::ReissueForm,
        rekam::desk::ReissuedView,
        rekam::domain::population::ExtractKind,
        rekam::population::ImportReport,
        crate::preview::PreviewDevice,
        crate::preview::Frame,
    ]
}

/// Values the screen needs from the same source as the core: the steps' order, and every
/// name the core also gives an operator (cases, steps, fingers, eyes) in both languages (they
/// had drifted when the screen kept its own copies).
fn constants() -> String {
    use rekam::domain::case::CaseType;
    use rekam::i18n::Lang;
    use rekam::workflow::counter::EyeName;
    use rekam::workflow::{handover, recording::Step};
    use rekam_drivers::sbi::Finger;
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    // One entry: `key: { id: "...", en: "..." },`.
    let entry = |key: String, label: &dyn Fn(Lang) -> &'static str| {
        format!(
            "  {key}: {{ id: {}, en: {} }},",
            quoted(label(Lang::Id)),
            quoted(label(Lang::En))
        )
    };
    let table = |entries: Vec<String>| format!("{{\n{}\n}}", entries.join("\n"));
    let steps: Vec<String> = Step::ALL.iter().map(|s| quoted(s.name())).collect();
    let cases = table(
        CaseType::ALL
            .iter()
            .map(|&c| entry(c.as_str().to_owned(), &|l| c.label(l)))
            .collect(),
    );
    let step_labels = table(
        Step::ALL
            .iter()
            .chain([Step::Ended].iter())
            .map(|&s| entry(s.name().to_owned(), &|l| s.label(l)))
            .collect(),
    );
    let handover_labels = table(
        handover::Step::ALL
            .iter()
            .map(|&s| entry(s.name().to_owned(), &|l| s.label(l)))
            .collect(),
    );
    let fingers = table(
        Finger::ALL
            .iter()
            .map(|&f| entry(f.code().to_string(), &|l| f.label(l)))
            .collect(),
    );
    let eyes = table(
        [(1, EyeName::Right), (2, EyeName::Left)]
            .iter()
            .map(|&(pos, e)| entry(pos.to_string(), &|l| e.label(l)))
            .collect(),
    );
    format!(
        "\n/** The recording's steps in the SOP's order (`Step::ALL`). */\nexport const STEPS: \
         readonly Step[] = [{}];\n\n/** The cases' names (`CaseType::label`). */\nexport const \
         CASE_LABELS: Record<CaseType, Record<Lang, string>> = {cases};\n\n/** The recording's \
         steps' names (`Step::label`). */\nexport const STEP_LABELS: Record<Step, Record<Lang, \
         string>> = {step_labels};\n\n/** The handover's steps' names \
         (`handover::Step::label`). */\nexport const HANDOVER_STEP_LABELS: Record<string, \
         Record<Lang, string>> = {handover_labels};\n\n/** ISO/IEC 19794-4 finger positions' \
         names (`Finger::label`). */\nexport const FINGER_LABELS: Record<number, Record<Lang, \
         string>> = {fingers};\n\n/** The irises' positions (1 right, 2 left) and names \
         (`EyeName::label`). */\nexport const EYE_LABELS: Record<number, Record<Lang, string>> \
         = {eyes};\n",
        steps.join(", "),
    )
}

/// Every command the shell offers and what it answers (its `Ok`; an error is a `Problem`).
/// The test below checks the names against the shell's handler list; the answers are the
/// commands' own types, named once more here.
fn commands() -> Vec<(&'static str, String)> {
    let cfg = Config::new().with_large_int("number");
    macro_rules! answers {
        ($($name:ident: $t:ty),+ $(,)?) => {
            vec![$((stringify!($name), <$t as TS>::name(&cfg))),+]
        };
    }
    use rekam::desk::{
        HandoverView, HomeView, PersonalisedView, PrintOrderView, ReissueCase, ReissuedView,
        SessionView, SettingsView, SyncView, WizardView,
    };
    answers![
        station_status: HomeView,
        device_status: Vec<rekam::desk::DeviceView>,
        backlog: Vec<rekam::sync::BacklogLine>,
        login: SessionView,
        unlock: SessionView,
        logout: (),
        lock_screen: (),
        session: Option<SessionView>,
        recording_current: Option<WizardView>,
        recording_close: (),
        recording: WizardView,
        training_roster: Vec<crate::training::TraineeResident>,
        training_present: (),
        ui_config: crate::UiConfig,
        ui_rendered: (),
        handover: HandoverView,
        handover_current: Option<HandoverView>,
        handover_close: (),
        sync_status: SyncView,
        sync_now: (),
        export_targets: Vec<rekam::disk::Target>,
        export: rekam::export::ExportReport,
        import_receipts: rekam::export::ReceiptsReport,
        clarify: (),
        population_files: Vec<std::path::PathBuf>,
        population_import: rekam::population::ImportReport,
        daily_report: rekam::report::DailyReport,
        settings: SettingsView,
        preview_start: u64,
        preview_stop: (),
        reissue_checklist: Vec<ReissueCase>,
        reissue: ReissuedView,
        reissue_requests: Vec<rekam::desk::ReissueLine>,
        print_queue: Vec<rekam::desk::PrintQueueLine>,
        print_order: PrintOrderView,
        card_returned: String,
        personalise: PersonalisedView,
    ]
}

/// The commands as one TypeScript interface: `call("name")` answers the command's own type.
fn commands_interface() -> String {
    let lines: Vec<String> = commands()
        .into_iter()
        .map(|(name, answer)| format!("  {name}: {answer};"))
        .collect();
    format!(
        "\n/** What each command answers (`invoke`'s result; a failure is a `Problem`). */\n\
         export interface Commands {{\n{}\n}}\n",
        lines.join("\n")
    )
}

/// The file's text.
pub fn render() -> String {
    let mut out = String::from(
        "// Generated from the Rust views of src-tauri (ts-rs) by src-tauri/src/bindings.rs: do \
         not edit.\n// REKAM_BLESS=1 cargo test -p rekam-desktop bindings writes it again.\n",
    );
    for decl in declarations() {
        out.push_str("\nexport ");
        out.push_str(decl.trim_end());
        if !decl.trim_end().ends_with(';') {
            out.push(';');
        }
        out.push('\n');
    }
    out.push_str(&constants());
    out.push_str(&commands_interface());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn the_screens_types_are_generated_from_rust() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(super::FILE);
        let fresh = super::render();
        if std::env::var_os("REKAM_BLESS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is not what the Rust views give: run `REKAM_BLESS=1 cargo test -p \
             rekam-desktop bindings`, then build the screen (its compiler says what to change)",
            path.display()
        );
    }

    #[test]
    fn every_command_the_shell_offers_has_its_answer_typed() {
        let main = include_str!("main.rs");
        let start = main.find("generate_handler![").unwrap();
        let end = start + main[start..].find(']').unwrap();
        let mut offered: Vec<&str> = main[start..end]
            .trim_start_matches("generate_handler![")
            .split(',')
            .map(|c| c.trim().rsplit("::").next().unwrap_or_default())
            .filter(|c| !c.is_empty())
            .collect();
        let mut typed: Vec<&str> = super::commands().iter().map(|(n, _)| *n).collect();
        offered.sort_unstable();
        typed.sort_unstable();
        assert_eq!(
            offered, typed,
            "a command was added or removed: name its answer in bindings.rs `commands()`"
        );
    }
}
