//! The handover (pengambilan) as a desk holds it between actions: the card on the reader, its
//! chip data for the resident to check, both index fingers against the chip, the receipt
//! signed on the pad. Every decision is the workflow's (`crate::workflow::handover`).

use super::view::{BiodataView, HandedOverView, HandoverView, Problem};
use super::{Desk, devices};
use crate::Result;
use crate::i18n::Lang;
use crate::station::Station;
use crate::workflow::WorkflowError;
use crate::workflow::counter::Password;
use crate::workflow::handover::{HandoverWorkflow, Step};
use crate::workflow::operators;
use serde::Deserialize;

/// What the operator asks of the handover in progress.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
        password: Password,
        /// Whether the old KTP was surrendered.
        old_ktp_surrendered: bool,
    },
    /// The receipt signed on the pad; the card is handed over.
    Receipt {
        /// Whether the resident surrendered an old KTP.
        old_ktp_withdrawn: bool,
    },
}

/// The handover in progress and what its screen shows.
#[derive(Debug, Default)]
pub(super) struct Handover {
    workflow: Option<HandoverWorkflow>,
    view: Option<HandoverView>,
}

impl Handover {
    /// Abandons the handover in progress, if any (its visit row says so), and clears the
    /// screen.
    pub(super) fn cancel(&mut self, station: &mut Station, reason: &str) -> Result<()> {
        self.view = None;
        match self.workflow.take() {
            Some(w) => w.cancel(station, reason),
            None => Ok(()),
        }
    }
}

impl Desk {
    /// The handover on screen.
    pub fn handover_current(&self) -> Option<HandoverView> {
        self.handover.view.clone()
    }

    /// Leaves an ended handover's screen (one in progress stays).
    pub fn handover_close(&mut self) {
        if self.handover.workflow.is_none() {
            self.handover.view = None;
        }
    }

    /// One step of the handover, in the SOP's order (the workflow refuses any other).
    pub fn handover(&mut self, action: HandoverAction, lang: Lang) -> Result<HandoverView> {
        let session = self.live_session()?.clone();
        if let HandoverAction::Start { queue_number } = action {
            // Nothing is left half-done without a trace: an abandoned handover is cancelled.
            let mut abandoned = std::mem::take(&mut self.handover);
            let station = self.station()?;
            abandoned.cancel(station, "the next resident was called")?;
            let w = HandoverWorkflow::start(station, &session, queue_number.as_deref())?;
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
            return Err(WorkflowError::NoHandover.into());
        };
        let result = self.handover_step(&mut w, &mut view, action);
        view.step = w.step().name();
        if let Err(e) = &result {
            if w.step() == Step::Ended {
                view.refused = Some(Problem::of(e, lang));
            } else {
                self.forget_devices_after(e.code());
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
        w: &mut HandoverWorkflow,
        view: &mut HandoverView,
        action: HandoverAction,
    ) -> Result<()> {
        match action {
            HandoverAction::Start { .. } => Ok(()),
            HandoverAction::ReadCard => {
                let trust = devices::card_trust(&self.config)?;
                let reader = devices::card_reader(&self.config)?;
                let station = self.station()?;
                let biodata = w.read_card(station, &reader, &trust)?.clone();
                view.biodata = Some(BiodataView::of(&biodata, station));
                Ok(())
            }
            HandoverAction::Confirm { confirmed } => {
                w.confirm_chip_data(self.station()?, confirmed)
            }
            HandoverAction::Verify => {
                let (station, devices) = self.station_and_devices()?;
                view.scores = Some(w.verify(station, &devices.fingerprint)?);
                Ok(())
            }
            HandoverAction::Dispensation {
                supervisor_id,
                password,
                old_ktp_surrendered,
            } => {
                let subject = view.queue_number.as_deref().unwrap_or("handover");
                let (station, devices) = self.station_and_devices()?;
                let approval = operators::approve(
                    station,
                    &supervisor_id,
                    password.as_str(),
                    &devices.fingerprint,
                    "dispensation",
                    subject,
                )?;
                w.dispensation(Some(&approval), old_ktp_surrendered)
            }
            HandoverAction::Receipt { old_ktp_withdrawn } => {
                let (station, devices) = self.station_and_devices()?;
                let done = w.receipt(station, &mut devices.pad, old_ktp_withdrawn)?;
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
