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
        rekam::sync::LastPass,
        crate::desk::UiError,
        crate::desk::SessionView,
        crate::desk::ChecklistLine,
        crate::desk::BiodataView,
        crate::desk::SealedView,
        crate::desk::WizardView,
        rekam::workflow::counter::EyeName,
        rekam::workflow::counter::Password,
        rekam::workflow::counter::Action,
        crate::handover::HandoverAction,
        crate::handover::HandedOverView,
        crate::handover::HandoverView,
        crate::back_office::SyncView,
        crate::back_office::ExportProgress,
        crate::DeviceView,
        crate::personalise::PrintOrderView,
        crate::personalise::PersonalisedView,
        crate::reissue::ReissueCase,
        crate::reissue::ReissueForm,
        crate::reissue::ReissuedView,
        crate::preview::PreviewDevice,
        crate::preview::Frame,
    ]
}

/// Values the screen needs from the same source as the core: the steps' order and the cases'
/// names in both languages (they had drifted when the screen kept its own copies).
fn constants() -> String {
    use rekam::domain::case::CaseType;
    use rekam::i18n::Lang;
    use rekam::workflow::recording::Step;
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let steps: Vec<String> = Step::ALL.iter().map(|s| quoted(s.name())).collect();
    let cases: Vec<String> = CaseType::ALL
        .iter()
        .map(|c| {
            format!(
                "  {}: {{ id: {}, en: {} }},",
                c.as_str(),
                quoted(c.label(Lang::Id)),
                quoted(c.label(Lang::En))
            )
        })
        .collect();
    format!(
        "\n/** The recording's steps in the SOP's order (`Step::ALL`). */\nexport const STEPS: \
         readonly Step[] = [{}];\n\n/** The cases' names (`CaseType::label`). */\nexport const \
         CASE_LABELS: Record<CaseType, Record<Lang, string>> = {{\n{}\n}};\n",
        steps.join(", "),
        cases.join("\n")
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
}
