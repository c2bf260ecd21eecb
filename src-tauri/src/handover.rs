//! The handover (pengambilan) as the shell holds it between commands: the card on the reader,
//! its chip data for the resident to check, both index fingers against the chip, the receipt
//! signed on the pad. Every decision is the core's (`rekam::workflow::handover`).

use crate::desk::{BiodataView, Config, Desk, Res, UiError};
use rekam::clock::Clock;
use rekam::i18n::Lang;
use rekam::workflow::handover::{HandoverWorkflow, Step};
use rekam::workflow::operators;
use rekam_drivers::DeviceKind;
use rekam_drivers::card::CardTrust;
use rekam_drivers::card::pcsc::PcscReader;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What the operator asks of the handover in progress.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum HandoverAction {
    /// A resident brings their summons letter (its queue number, when they have it).
    Start {
        /// The letter's queue number.
        #[serde(default)]
        queue_number: Option<String>,
    },
    /// Read and authenticate the card on the reader.
    ReadCard,
    /// The resident's answer on the chip's data beside the printed card.
    Confirm {
        /// Whether it is theirs and right.
        confirmed: bool,
    },
    /// Both index fingers against the chip.
    Verify,
    /// Dispensation instead of the fingers: a supervisor's approval and the old KTP.
    Dispensation {
        /// The supervisor.
        supervisor_id: String,
        /// Their password.
        password: String,
        /// Whether the old KTP was surrendered.
        old_ktp_surrendered: bool,
    },
    /// The receipt signed on the pad; the card is handed over.
    Receipt {
        /// Whether the resident surrendered an old KTP.
        old_ktp_withdrawn: bool,
    },
}

/// The card handed over.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HandedOverView {
    card_serial: String,
    /// `berhasil` or `dispensasi`.
    verification: String,
    receipt_bytes: usize,
}

/// Where a handover is, for its screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HandoverView {
    queue_number: Option<String>,
    /// The step to do next: `card`, `chip_data`, `handover_verification`, `receipt`, `ended`.
    step: &'static str,
    /// The chip's data, once read.
    biodata: Option<BiodataView>,
    /// The index fingers' scores against the chip.
    scores: Option<(u8, u8)>,
    /// The card handed over.
    handed_over: Option<HandedOverView>,
    /// Why the visit ended without a card (a forged card, fingers that do not match).
    refused: Option<UiError>,
}

/// The handover in progress and what its screen shows.
#[derive(Debug, Default)]
pub struct Handover {
    workflow: Option<HandoverWorkflow>,
    view: Option<HandoverView>,
}

impl Handover {
    /// The handover on screen.
    pub fn current(&self) -> Option<HandoverView> {
        self.view.clone()
    }

    /// Leaves an ended handover's screen.
    pub fn close(&mut self) {
        if self.workflow.is_none() {
            self.view = None;
        }
    }

    /// Abandons the handover in progress, if any (its visit row says so), and clears the
    /// screen.
    pub fn cancel(
        &mut self,
        station: &mut rekam::station::Station,
        reason: &str,
    ) -> rekam::Result<()> {
        self.view = None;
        match self.workflow.take() {
            Some(w) => w.cancel(station, reason),
            None => Ok(()),
        }
    }
}

/// What cards are checked against, from the configured files.
pub(crate) fn card_trust(config: &Config, lang: Lang) -> Res<CardTrust> {
    let Some((csca, sam)) = &config.card_trust else {
        return Err(UiError {
            code: "CARD_TRUST_MISSING",
            message: lang
                .pick(
                    "Sertifikat CSCA dan kunci SAM belum diatur (REKAM_CARD_CSCA, REKAM_CARD_SAM): hubungi teknisi",
                    "The CSCA certificate and SAM key are not configured (REKAM_CARD_CSCA, REKAM_CARD_SAM): call a technician",
                )
                .into(),
        });
    };
    CardTrust::from_files(csca, sam).map_err(|e| UiError::from_core(&e.into(), lang))
}

/// The configured card reader, else the first one pcscd knows.
pub(crate) fn reader(config: &Config) -> rekam::Result<PcscReader> {
    let name = match &config.card_reader {
        Some(name) => name.clone(),
        None => rekam_drivers::card::pcsc::list_readers()?
            .into_iter()
            .next()
            .ok_or(rekam_drivers::DriverError::NotConnected {
                kind: DeviceKind::CardReader,
                address: "pcscd".into(),
            })?,
    };
    Ok(PcscReader::open(&name)?)
}

impl Desk {
    /// One step of the handover, in the SOP's order (the core refuses any other).
    pub fn handover(
        &mut self,
        config: &Config,
        clock: &Arc<dyn Clock>,
        lang: Lang,
        action: HandoverAction,
    ) -> Res<HandoverView> {
        let core = |e: rekam::Error| UiError::from_core(&e, lang);
        self.station(config, clock, lang)?;
        let session = self.session_mut(lang)?;
        session.touch().map_err(core)?;
        let session = session.clone();
        if let HandoverAction::Start { queue_number } = action {
            // Nothing is left half-done without a trace: an abandoned handover is cancelled.
            let mut abandoned = std::mem::take(&mut self.handover);
            let station = self.station(config, clock, lang)?;
            abandoned
                .cancel(station, "the next resident was called")
                .map_err(core)?;
            let w = HandoverWorkflow::start(station, &session, queue_number.as_deref())
                .map_err(core)?;
            let view = HandoverView {
                queue_number,
                step: w.step().name(),
                biodata: None,
                scores: None,
                handed_over: None,
                refused: None,
            };
            self.handover = Handover {
                workflow: Some(w),
                view: Some(view.clone()),
            };
            return Ok(view);
        }
        let (Some(mut w), Some(mut view)) =
            (self.handover.workflow.take(), self.handover.view.clone())
        else {
            return Err(UiError {
                code: "NO_HANDOVER",
                message: lang
                    .pick(
                        "Tidak ada pengambilan berjalan: mulai dari surat panggilan",
                        "No handover in progress: start from the summons letter",
                    )
                    .into(),
            });
        };
        let result = self.handover_step(config, clock, lang, &mut w, &mut view, action);
        view.step = w.step().name();
        if let Err(e) = &result {
            if w.step() == Step::Ended {
                view.refused = Some(UiError {
                    code: e.code,
                    message: e.message.clone(),
                });
            } else {
                self.forget_devices_after(e.code);
            }
        }
        if w.step() != Step::Ended {
            self.handover.workflow = Some(w);
        }
        self.handover.view = Some(view.clone());
        result.map(|()| view)
    }

    fn handover_step(
        &mut self,
        config: &Config,
        clock: &Arc<dyn Clock>,
        lang: Lang,
        w: &mut HandoverWorkflow,
        view: &mut HandoverView,
        action: HandoverAction,
    ) -> Res<()> {
        let core = |e: rekam::Error| UiError::from_core(&e, lang);
        match action {
            HandoverAction::Start { .. } => Ok(()),
            HandoverAction::ReadCard => {
                let trust = card_trust(config, lang)?;
                let reader = reader(config).map_err(core)?;
                let station = self.station(config, clock, lang)?;
                let biodata = w.read_card(station, &reader, &trust).map_err(core)?.clone();
                view.biodata = Some(BiodataView::of(&biodata, station));
                Ok(())
            }
            HandoverAction::Confirm { confirmed } => {
                let station = self.station(config, clock, lang)?;
                w.confirm_chip_data(station, confirmed).map_err(core)
            }
            HandoverAction::Verify => {
                self.devices(config, lang)?;
                let (station, devices) = self.station_and_devices(lang)?;
                view.scores = Some(w.verify(station, &devices.fingerprint).map_err(core)?);
                Ok(())
            }
            HandoverAction::Dispensation {
                supervisor_id,
                password,
                old_ktp_surrendered,
            } => {
                let station = self.station(config, clock, lang)?;
                let subject = view
                    .queue_number
                    .clone()
                    .unwrap_or_else(|| "handover".into());
                let approval = operators::approve(
                    station,
                    &supervisor_id,
                    &password,
                    "dispensation",
                    &subject,
                )
                .map_err(core)?;
                w.dispensation(Some(&approval), old_ktp_surrendered)
                    .map_err(core)
            }
            HandoverAction::Receipt { old_ktp_withdrawn } => {
                self.devices(config, lang)?;
                let (station, devices) = self.station_and_devices(lang)?;
                let done = w
                    .receipt(station, &mut devices.pad, old_ktp_withdrawn)
                    .map_err(core)?;
                view.handed_over = Some(HandedOverView {
                    card_serial: done.card_serial,
                    verification: done.verification,
                    receipt_bytes: done.receipt.len(),
                });
                Ok(())
            }
        }
    }
}
