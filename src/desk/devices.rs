//! The counter's devices as a desk holds them: found at their configured places on first use,
//! dropped when one goes away so the next step looks for it again.

use super::Config;
use crate::i18n::{Lang, Localized};
use crate::workflow::counter;
use crate::{Error, Result};
use rekam_drivers::card::CardTrust;
use rekam_drivers::card::pcsc::PcscReader;
use rekam_drivers::sbi::{BiometricDevice, SbiClient, SbiDevice};
use rekam_drivers::signature_pad::SerialPad;
use rekam_drivers::trust::TrustRoots;
use rekam_drivers::{DeviceKind, DriverError};
use serde::Serialize;

/// The counter's devices, open.
#[derive(Debug)]
pub(crate) struct Devices {
    pub(crate) fingerprint: SbiDevice,
    pub(crate) iris: SbiDevice,
    pub(crate) face: SbiDevice,
    pub(crate) pad: SerialPad,
    /// Where the pad is (the device bar says it is in use here).
    pub(crate) pad_port: String,
}

impl Devices {
    /// Finds every device at its configured place; the first one missing is the error.
    pub(crate) fn open(config: &Config) -> Result<Devices> {
        let not_found = |kind: DeviceKind, address: String| {
            Error::from(DriverError::NotConnected { kind, address })
        };
        let Some(path) = &config.sbi_trust else {
            return Err(not_found(DeviceKind::Fingerprint, "REKAM_SBI_TRUST".into()));
        };
        let roots = TrustRoots::from_pem_file(path).map_err(|e| {
            Error::from(DriverError::Untrusted {
                kind: DeviceKind::Fingerprint,
                detail: format!("{}: {e}", path.display()),
            })
        })?;
        let ports = format!(
            "127.0.0.1:{}-{}",
            config.sbi_ports.start(),
            config.sbi_ports.end()
        );
        let found: Vec<SbiDevice> = SbiClient::new(roots)
            .discover(config.sbi_ports.clone())
            .into_iter()
            .filter_map(|(_, d)| d.ok())
            .flatten()
            .collect();
        let take = |kind: DeviceKind| {
            found
                .iter()
                .find(|d| d.info().kind == kind)
                .cloned()
                .ok_or_else(|| not_found(kind, ports.clone()))
        };
        let (pad_port, pad) = config
            .pad_ports
            .iter()
            .find_map(|p| SerialPad::open(p).ok().map(|pad| (p.clone(), pad)))
            .ok_or_else(|| not_found(DeviceKind::SignaturePad, config.pad_ports.join(", ")))?;
        Ok(Devices {
            fingerprint: take(DeviceKind::Fingerprint)?,
            iris: take(DeviceKind::Iris)?,
            face: take(DeviceKind::Face)?,
            pad,
            pad_port,
        })
    }

    /// The devices as one step of a recording takes them.
    pub(crate) fn for_step(&mut self) -> counter::Devices<'_> {
        counter::Devices {
            fingerprint: &self.fingerprint,
            iris: &self.iris,
            face: &self.face,
            pad: &mut self.pad,
        }
    }
}

/// One device as the device bar shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceView {
    /// What kind of device.
    pub kind: DeviceKind,
    /// Its name for an operator.
    pub label: &'static str,
    /// `ready`, `problem`, or `no_driver`.
    pub state: &'static str,
    /// Identity when ready, what to do otherwise.
    pub detail: String,
}

/// Every kind of device at its configured places, found or not, and what is wrong. The pad a
/// desk holds open (`pad_in_use`) cannot be opened again by the survey: it is shown as in use
/// here. Takes up to two seconds for a silent port: run it outside the desk.
pub fn survey(config: &Config, pad_in_use: Option<&str>, lang: Lang) -> Vec<DeviceView> {
    let survey = rekam_drivers::survey::SurveyConfig {
        pads: config.pad_ports.clone(),
        sbi_ports: config.sbi_ports.clone(),
        sbi_trust: config
            .sbi_trust
            .as_ref()
            .and_then(|p| TrustRoots::from_pem_file(p).ok()),
    };
    rekam_drivers::survey::survey(&survey)
        .into_iter()
        .map(|f| {
            let held_here = pad_in_use.filter(|_| f.kind == DeviceKind::SignaturePad);
            let (state, detail) = match (held_here, &f.problem, &f.info) {
                (Some(port), _, _) => (
                    "ready",
                    format!(
                        "{} ({port})",
                        lang.pick("dipakai stasiun ini", "in use by this station")
                    ),
                ),
                (None, Some(e), _) => ("problem", e.localized(lang)),
                (None, None, Some(info)) => (
                    "ready",
                    format!("{} {} ({})", info.model, info.serial, f.address),
                ),
                (None, None, None) => ("ready", f.address.clone()),
            };
            DeviceView {
                kind: f.kind,
                label: f.kind.label(lang),
                state,
                detail,
            }
        })
        .collect()
}

/// The configured card token, logged in.
pub(crate) fn card_token(
    config: &Config,
    setting: crate::workflow::Setting,
) -> Result<std::sync::Arc<rekam_drivers::card::token::CardToken>> {
    let cfg = config
        .card_token
        .as_ref()
        .ok_or(crate::workflow::WorkflowError::NotConfigured(setting))?;
    Ok(rekam_drivers::card::token::CardToken::open(cfg)?)
}

/// What cards are checked against: the configured CSCA, and the SAM in the card token.
pub(crate) fn card_trust(config: &Config) -> Result<CardTrust> {
    let token = card_token(config, crate::workflow::Setting::CardTrust)?;
    card_trust_with(config, token)
}

/// [`card_trust`] with the token already open (the personaliser's).
pub(crate) fn card_trust_with(
    config: &Config,
    token: std::sync::Arc<rekam_drivers::card::token::CardToken>,
) -> Result<CardTrust> {
    let Some(csca) = &config.card_trust else {
        return Err(crate::workflow::WorkflowError::NotConfigured(
            crate::workflow::Setting::CardTrust,
        )
        .into());
    };
    Ok(CardTrust::from_token(csca, token)?)
}

/// The configured card reader, else the first one pcscd knows.
pub(crate) fn card_reader(config: &Config) -> Result<PcscReader> {
    let name = match &config.card_reader {
        Some(name) => name.clone(),
        None => rekam_drivers::card::pcsc::list_readers()?
            .into_iter()
            .next()
            .ok_or(DriverError::NotConnected {
                kind: DeviceKind::CardReader,
                address: "pcscd".into(),
            })?,
    };
    Ok(PcscReader::open(&name)?)
}
