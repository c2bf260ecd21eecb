//! Every device this station can see, in one pass: what `rekam doctor` prints and the desktop
//! device bar shows. Each finding names the device, its status and identity, the certificate
//! it signs with where it has one, and what is wrong.

use crate::card::pcsc::{PcscReader, list_readers};
use crate::sbi::{BiometricDevice, SbiClient};
use crate::trust::TrustRoots;
use crate::{DeviceInfo, DeviceKind, DeviceStatus, DriverError};
use std::ops::RangeInclusive;

/// Where to look.
#[derive(Debug, Clone)]
pub struct SurveyConfig {
    /// Serial ports of signature pads.
    pub pads: Vec<String>,
    /// Ports of SBI services.
    pub sbi_ports: RangeInclusive<u16>,
    /// The device providers trusted for SBI; `None` when none is configured.
    pub sbi_trust: Option<TrustRoots>,
}

/// The certificate a device signs with, as checked against the trust root.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateSummary {
    /// Subject.
    pub subject: String,
    /// Issuer.
    pub issuer: String,
    /// SHA-256 of the certificate.
    pub fingerprint: String,
    /// End of validity.
    pub not_after: String,
}

/// What else is worth knowing about a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Note {
    /// A card is in the reader.
    CardPresent,
    /// The reader is empty.
    NoCard,
}

/// One device, or one place a device should be.
#[derive(Debug)]
pub struct Finding {
    /// Kind.
    pub kind: DeviceKind,
    /// Port, URL or reader name.
    pub address: String,
    /// Identity, when it answered.
    pub info: Option<DeviceInfo>,
    /// Status, when it answered.
    pub status: Option<DeviceStatus>,
    /// Its verified certificate.
    pub certificate: Option<CertificateSummary>,
    /// Extra state.
    pub note: Option<Note>,
    /// What is wrong.
    pub problem: Option<DriverError>,
}

impl Finding {
    fn problem(kind: DeviceKind, address: String, e: DriverError) -> Finding {
        Finding {
            kind,
            address,
            info: None,
            status: None,
            certificate: None,
            note: None,
            problem: Some(e),
        }
    }
}

/// Looks at every kind of device.
pub fn survey(config: &SurveyConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for (port, r) in crate::signature_pad::discover(&config.pads) {
        out.push(match r {
            Ok(info) => Finding {
                kind: DeviceKind::SignaturePad,
                address: port,
                info: Some(info),
                status: Some(DeviceStatus::Ready),
                certificate: None,
                note: None,
                problem: None,
            },
            Err(e) => Finding::problem(DeviceKind::SignaturePad, port, e),
        });
    }
    out.extend(sbi(config));
    out.extend(card_readers());
    out
}

fn sbi(config: &SurveyConfig) -> Vec<Finding> {
    let client = SbiClient::new(config.sbi_trust.clone().unwrap_or_default());
    let mut out = Vec::new();
    for (port, found) in client.discover(config.sbi_ports.clone()) {
        let address = format!("http://127.0.0.1:{port}/");
        let devices = match found {
            Ok(d) => d,
            Err(e) => {
                out.push(Finding::problem(DeviceKind::Fingerprint, address, e));
                continue;
            }
        };
        for mut d in devices {
            let kind = d.info().kind;
            let status = d.status();
            let verified = if config.sbi_trust.is_some() {
                d.verified_info().map(|(_, s)| s)
            } else {
                Err(DriverError::Untrusted {
                    kind,
                    detail: "no trust root configured (--sbi-trust)".into(),
                })
            };
            let (certificate, problem) = match verified {
                Ok(s) => (
                    Some(CertificateSummary {
                        subject: s.subject,
                        issuer: s.issuer,
                        fingerprint: s.fingerprint,
                        not_after: s.not_after,
                    }),
                    None,
                ),
                Err(e) => (None, Some(e)),
            };
            out.push(Finding {
                kind,
                address: address.clone(),
                info: Some(d.info().clone()),
                status: Some(status),
                certificate,
                note: None,
                problem,
            });
        }
    }
    out
}

fn card_readers() -> Vec<Finding> {
    let names = match list_readers() {
        Ok(n) => n,
        Err(e) => return vec![Finding::problem(DeviceKind::CardReader, "pcscd".into(), e)],
    };
    names
        .into_iter()
        .map(|name| match PcscReader::open(&name) {
            Ok(r) => {
                let present = r.card_present();
                Finding {
                    kind: DeviceKind::CardReader,
                    address: name,
                    info: Some(r.info().clone()),
                    status: Some(r.status()),
                    certificate: None,
                    note: match present {
                        Ok(true) => Some(Note::CardPresent),
                        Ok(false) => Some(Note::NoCard),
                        Err(_) => None,
                    },
                    problem: present.err(),
                }
            }
            Err(e) => Finding::problem(DeviceKind::CardReader, name, e),
        })
        .collect()
}
