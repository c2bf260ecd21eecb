//! Personalisation at the Dinas: the print order of a PRINT_READY_RECORD fetched from the data
//! center (the packet id is on the resident's summons letter, as text and QR code), its data
//! shown for the administrator to check, then written to the blank card on the reader, locked,
//! and the card face rendered for the card printer. The order's signature, the role check, the
//! card protocol and the visit row are the core's (`rekam::workflow::personalisation`).

use crate::desk::{BiodataView, Config, UiError};
use crate::handover::{card_trust, reader};
use crate::on_desk;
use base64::Engine;
use rekam::domain::nik::MaskedNik;
use rekam::i18n::Lang;
use rekam::sync::SyncConfig;
use rekam::workflow::operators::Action as Permission;
use rekam::workflow::personalisation::{fetch_order, personalise as write_card};
use rekam_drivers::card::DocumentSigner;
use serde::Serialize;

/// The order on screen, for the administrator to check before writing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PrintOrderView {
    packet_id: String,
    biodata: BiodataView,
    /// Whether the chip gets each index finger (none: an exception at recording).
    right_index: bool,
    left_index: bool,
}

/// The card written.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PersonalisedView {
    card_serial: String,
    masked_nik: MaskedNik,
    /// The card face, `data:image/png;base64,...`, as the printer gets it.
    face_png: String,
    /// Its PDF's size.
    pdf_bytes: usize,
}

/// What a station that cannot personalise yet answers: a technician's job.
const NOT_CONFIGURED: &str = "PERSONALISATION_NOT_CONFIGURED";

fn not_configured(lang: Lang, what: &str, variables: &str) -> UiError {
    UiError {
        code: NOT_CONFIGURED,
        message: match lang {
            Lang::Id => format!("{what} belum diatur ({variables}): hubungi teknisi"),
            Lang::En => format!("{what} is not configured ({variables}): call a technician"),
        },
    }
}

fn signer(config: &Config, lang: Lang) -> Result<DocumentSigner, UiError> {
    let Some((key, cert)) = &config.document_signer else {
        return Err(not_configured(
            lang,
            lang.pick("Penanda tangan dokumen Dinas", "The Dinas document signer"),
            "REKAM_CARD_DS_KEY, REKAM_CARD_DS_CERT",
        ));
    };
    DocumentSigner::from_pem_files(key, cert).map_err(|e| UiError::from_core(&e.into(), lang))
}

/// Fetches the print order of `packet_id` (typed, or scanned from the summons letter's QR
/// code) from the data center, its signature checked against the pinned identity.
#[tauri::command]
pub async fn print_order(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    packet_id: String,
) -> Result<PrintOrderView, UiError> {
    on_desk(app, lang, move |desk, state, lang| {
        let core = |e: rekam::Error| UiError::from_core(&e, lang);
        desk.allowed(lang, Permission::Personalise)?;
        desk.print_order = None;
        let Some(url) = &state.config.dc_url else {
            return Err(not_configured(
                lang,
                lang.pick("Alamat pusat data", "The data center's address"),
                "REKAM_DC_URL",
            ));
        };
        let station = desk.station(&state.config, &state.clock, lang)?;
        let order = fetch_order(station, &SyncConfig::new(url), packet_id.trim()).map_err(core)?;
        let view = PrintOrderView {
            packet_id: order.packet_id.clone(),
            biodata: BiodataView::of(&order.biodata, station),
            right_index: !order.right_index.is_empty(),
            left_index: !order.left_index.is_empty(),
        };
        desk.print_order = Some(order);
        Ok(view)
    })
    .await
}

/// Writes the order on screen to the blank card on the reader and locks it; the card face
/// comes back for the printer. The order is used once: the next card needs its own.
#[tauri::command]
pub async fn personalise(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<PersonalisedView, UiError> {
    on_desk(app, lang, move |desk, state, lang| {
        let core = |e: rekam::Error| UiError::from_core(&e, lang);
        let signer = signer(&state.config, lang)?;
        let trust = card_trust(&state.config, lang)?;
        let reader = reader(&state.config).map_err(core)?;
        let order = desk.print_order.take().ok_or_else(|| UiError {
            code: "NO_PRINT_ORDER",
            message: lang
                .pick(
                    "Belum ada data cetak: masukkan nomor paket dari surat panggilan",
                    "No print order yet: enter the packet id from the summons letter",
                )
                .into(),
        })?;
        let (station, session) = desk.station_and_session(&state.config, &state.clock, lang)?;
        let done = write_card(
            station,
            session,
            &order,
            &reader,
            &trust.sam_master,
            &signer,
        );
        let done = match done {
            Ok(done) => done,
            Err(e) => {
                // A card that failed (not blank, pulled out) leaves the order for another one.
                desk.print_order = Some(order);
                return Err(core(e));
            }
        };
        Ok(PersonalisedView {
            card_serial: done.card_serial,
            masked_nik: order.biodata.nik.masked(),
            face_png: format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&done.face_png)
            ),
            pdf_bytes: done.face_pdf.len(),
        })
    })
    .await
}
