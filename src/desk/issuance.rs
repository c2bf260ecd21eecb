//! A card's issuance at a desk: reissue requests at the counter (a lost or damaged card, a data
//! change, a move) with the temporary letter the resident leaves with, and personalisation at
//! the Dinas (the print order fetched and checked, then written to the blank card on the
//! reader). Eligibility, evidence, signatures, the card protocol and the visit rows are the
//! workflows' (`crate::workflow::reissue`, `crate::workflow::personalisation`).

use super::view::{
    BiodataView, PersonalisedView, PrintOrderView, PrintQueueLine, ReissueCase, ReissuedView,
    checklist,
};
use super::{Desk, devices};
use crate::Result;
use crate::domain::case::{CaseType, Document};
use crate::i18n::Lang;
use crate::sync::SyncConfig;
use crate::workflow::operators::Action as Permission;
use crate::workflow::personalisation::{
    fetch_order, personalise, print_queue, record_return, report_cards,
};
use crate::workflow::reissue::ReissueLine;
use crate::workflow::reissue::{ReissueRequest, request};
use crate::workflow::{Setting, WorkflowError};
use base64::Engine;
use rekam_drivers::card::DocumentSigner;
use serde::Deserialize;

/// The cases the reissue screen offers, in its order.
const CASES: [CaseType; 4] = [
    CaseType::LostCard,
    CaseType::ReplaceDamaged,
    CaseType::DataChange,
    CaseType::MovingIn,
];

/// A reissue request as the operator filled it in.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReissueForm {
    /// The case.
    pub case: CaseType,
    /// The NIK as typed (separators allowed).
    pub nik: String,
    /// Documents presented.
    #[serde(default)]
    pub presented: Vec<Document>,
    /// Conditional documents that apply.
    #[serde(default)]
    pub applicable: Vec<Document>,
    /// The new address, for a move.
    #[serde(default)]
    pub new_address: Option<String>,
}

/// The reissue cases and what each asks for.
pub fn reissue_cases(lang: Lang) -> Vec<ReissueCase> {
    CASES
        .iter()
        .map(|&case| ReissueCase {
            case,
            label: case.label(lang),
            checklist: checklist(case, lang),
            needs_address: case == CaseType::MovingIn,
        })
        .collect()
}

impl Desk {
    /// Takes a reissue request; a refusal (never recorded, missing evidence) is recorded by
    /// the workflow and comes back as its error.
    pub fn reissue(&mut self, form: &ReissueForm, lang: Lang) -> Result<ReissuedView> {
        self.population()?;
        self.live_session()?;
        let (Some(station), Some(session), Some(population)) = (
            self.station.as_mut(),
            self.session.as_ref(),
            self.population.as_ref(),
        ) else {
            return Err(crate::Error::Internal("opened just before".into()));
        };
        let nik: String = form.nik.chars().filter(char::is_ascii_digit).collect();
        let new_address = form
            .new_address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let done = request(
            station,
            session,
            population,
            &ReissueRequest {
                case: form.case,
                nik: &nik,
                presented: &form.presented,
                applicable: &form.applicable,
                new_address,
            },
        )?;
        Ok(ReissuedView {
            request_id: done.request_id,
            masked_nik: done.masked_nik,
            case_label: form.case.label(lang),
            letter_bytes: done.temporary_letter.len(),
        })
    }

    /// The reissue requests taken at this station, newest first, each with where it stands:
    /// waiting for the sync pass, on the Dinas's print queue, or refused with what to do.
    pub fn reissue_requests(&mut self, lang: Lang) -> Result<Vec<ReissueLine>> {
        let station = self.station_for(Permission::Serve)?;
        crate::workflow::reissue::lines(station, lang)
    }

    /// Fetches the print order of `packet_id` from the data center and keeps it for
    /// [`Desk::personalise`]; what it shows is for the administrator to check first.
    pub fn print_order(&mut self, packet_id: &str) -> Result<PrintOrderView> {
        self.print_order = None;
        self.live_session()?.require(Permission::Personalise)?;
        let cfg = self.dc_config()?;
        let station = self.station()?;
        let order = fetch_order(station, &cfg, packet_id.trim())?;
        let view = PrintOrderView {
            packet_id: order.packet_id.clone(),
            biodata: BiodataView::of(&order.biodata, station),
            right_index: !order.right_index.is_empty(),
            left_index: !order.left_index.is_empty(),
        };
        self.print_order = Some(order);
        Ok(view)
    }

    /// The Dinas's print queue: the records of its regency to personalise, oldest first.
    pub fn print_queue(&mut self) -> Result<Vec<PrintQueueLine>> {
        let cfg = self.dc_config()?;
        let station = self.station_for(Permission::Personalise)?;
        let queue = print_queue(station, &cfg)?;
        Ok(queue
            .into_iter()
            .map(|q| {
                let kecamatan = crate::domain::region::RegionCode::parse(&q.kecamatan)
                    .ok()
                    .and_then(|c| {
                        crate::domain::region::RegionDirectory::region(station.store(), &c)
                    })
                    .map_or_else(|| q.kecamatan.clone(), |r| r.name);
                PrintQueueLine {
                    packet_id: q.packet_id,
                    masked_nik: q.masked_nik,
                    recorded_at: format!("{kecamatan} ({})", q.station_id),
                    ready_on: time::OffsetDateTime::from_unix_timestamp(q.ready_at)
                        .map(|t| t.date().to_string())
                        .unwrap_or_default(),
                    returned: q.returned,
                }
            })
            .collect())
    }

    /// Records a card personalised here that came back (its handover failed, it was
    /// damaged); the sync reports it and the record is on the print queue again.
    pub fn card_returned(&mut self, card_serial: &str, reason: &str) -> Result<String> {
        let (station, session) = self.station_and_session()?;
        let packet = record_return(station, session, card_serial, reason)?;
        self.report_cards();
        Ok(packet)
    }

    /// The data center as configured, for the Dinas's requests.
    fn dc_config(&self) -> Result<SyncConfig> {
        let url = self
            .config
            .dc_url
            .as_deref()
            .ok_or(WorkflowError::NotConfigured(Setting::DataCenter))?;
        Ok(SyncConfig::new(url))
    }

    /// Tells the data center about the cards at once, if it answers; what it does not take
    /// waits for the sync pass.
    fn report_cards(&mut self) {
        let Ok(cfg) = self.dc_config() else { return };
        let Ok(station) = self.station() else { return };
        let sent =
            crate::sync::client(station, &cfg).and_then(|client| report_cards(station, &client));
        if let Err(e) = sent {
            tracing::warn!(
                code = e.code(),
                "cards not reported now: the sync pass will"
            );
        }
    }

    /// Writes the checked print order to the blank card on the reader, locks it and renders
    /// the card face. A card that fails (not blank, pulled out) leaves the order for another.
    pub fn personalise(&mut self) -> Result<PersonalisedView> {
        let Some(chain) = &self.config.document_signer else {
            return Err(WorkflowError::NotConfigured(Setting::DocumentSigner).into());
        };
        let token = devices::card_token(&self.config, Setting::DocumentSigner)?;
        let signer = DocumentSigner::from_token(token.clone(), chain)?;
        let trust = devices::card_trust_with(&self.config, token)?;
        let reader = devices::card_reader(&self.config)?;
        let order = self.print_order.take().ok_or(WorkflowError::NoPrintOrder)?;
        let done = self.station_and_session().and_then(|(station, session)| {
            personalise(station, session, &order, &reader, &trust.sam, &signer)
        });
        let done = match done {
            Ok(done) => done,
            Err(e) => {
                self.print_order = Some(order);
                return Err(e);
            }
        };
        self.report_cards();
        Ok(PersonalisedView {
            card_serial: done.card_serial,
            masked_nik: order.biodata.nik.masked(),
            face_png: format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&done.face_png)
            ),
            pdf_bytes: done.face_pdf.len(),
        })
    }
}
