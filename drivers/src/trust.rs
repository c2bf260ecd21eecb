//! Certificate chains to a configured trust root: who signed what a device or a card says.
//!
//! Both SBI devices (MOSIP: the device key's certificate, issued by the device provider) and
//! cards (ICAO 9303 style: the document signer's certificate, issued by the country signing CA)
//! prove their data with an X.509 chain. This module checks such a chain against the trust
//! roots the station is configured with, and gives back the leaf's key to check the data's own
//! signature. Ed25519 only: anything else is refused by name, never skipped.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use std::path::Path;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ED25519};
use x509_parser::prelude::{FromDer, Pem};

/// Why a chain or a signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The bytes are not a certificate.
    #[error("not a certificate: {0}")]
    BadCertificate(String),
    /// No configured root (and no certificate of the chain) issued this certificate.
    #[error("{subject} was issued by {issuer}, which is not trusted here")]
    UnknownIssuer {
        /// Who the certificate names.
        subject: String,
        /// Who it says issued it.
        issuer: String,
    },
    /// The issuer's key did not sign this certificate.
    #[error("the signature on the certificate of {0} does not verify")]
    ForgedCertificate(String),
    /// Outside its validity period.
    #[error("the certificate of {subject} is not valid now (valid {not_before} to {not_after})")]
    NotValidNow {
        /// Who the certificate names.
        subject: String,
        /// Start, as the certificate states it.
        not_before: String,
        /// End.
        not_after: String,
    },
    /// A certificate in the middle of the chain may not issue certificates.
    #[error("{0} is not a certificate authority")]
    NotAnAuthority(String),
    /// An algorithm Rekam does not accept.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The data's signature does not verify with the signer's key.
    #[error("the signature of {0} does not verify")]
    BadSignature(String),
    /// No chain at all.
    #[error("no certificate was sent")]
    NoCertificate,
}

/// A trusted root certificate.
#[derive(Debug, Clone)]
struct Anchor {
    subject: String,
    key: VerifyingKey,
}

/// The certificates a station trusts for one purpose (SBI device providers, card issuers).
#[derive(Debug, Clone, Default)]
pub struct TrustRoots {
    anchors: Vec<Anchor>,
}

/// The verified end of a chain: who signed, and their key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The leaf's subject, as text.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// Its serial number, hex.
    pub serial: String,
    /// SHA-256 of its DER, hex: what `rekam doctor` shows to compare with paper.
    pub fingerprint: String,
    /// End of validity, as text.
    pub not_after: String,
    key: VerifyingKey,
}

impl Signer {
    /// Checks an Ed25519 signature made with the leaf's key over `message`; `what` names the
    /// data in the error.
    pub fn verify(&self, message: &[u8], signature: &[u8], what: &str) -> Result<(), TrustError> {
        let sig = Signature::from_slice(signature)
            .map_err(|_| TrustError::BadSignature(what.to_owned()))?;
        self.key
            .verify(message, &sig)
            .map_err(|_| TrustError::BadSignature(what.to_owned()))
    }

    /// The leaf's public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, TrustError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(TrustError::BadCertificate(
            "bytes after the certificate".into(),
        )),
        Err(e) => Err(TrustError::BadCertificate(e.to_string())),
    }
}

fn ed25519_key(cert: &X509Certificate<'_>) -> Result<VerifyingKey, TrustError> {
    let spki = cert.public_key();
    if spki.algorithm.algorithm != OID_SIG_ED25519 {
        let name = if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
            "EC public key".to_owned()
        } else {
            spki.algorithm.algorithm.to_id_string()
        };
        return Err(TrustError::UnsupportedAlgorithm(name));
    }
    let bytes: [u8; 32] = spki
        .subject_public_key
        .data
        .as_ref()
        .try_into()
        .map_err(|_| TrustError::BadCertificate("Ed25519 key of the wrong length".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| TrustError::BadCertificate("invalid Ed25519 key".into()))
}

/// Checks that `issuer_key` signed `cert`.
fn signed_by(cert: &X509Certificate<'_>, issuer_key: &VerifyingKey) -> Result<(), TrustError> {
    if cert.signature_algorithm.algorithm != OID_SIG_ED25519 {
        return Err(TrustError::UnsupportedAlgorithm(
            cert.signature_algorithm.algorithm.to_id_string(),
        ));
    }
    let sig = Signature::from_slice(cert.signature_value.data.as_ref())
        .map_err(|_| TrustError::ForgedCertificate(cert.subject().to_string()))?;
    issuer_key
        .verify(cert.tbs_certificate.as_ref(), &sig)
        .map_err(|_| TrustError::ForgedCertificate(cert.subject().to_string()))
}

fn valid_at(cert: &X509Certificate<'_>, now_unix: i64) -> Result<(), TrustError> {
    let v = cert.validity();
    if v.not_before.timestamp() <= now_unix && now_unix <= v.not_after.timestamp() {
        Ok(())
    } else {
        Err(TrustError::NotValidNow {
            subject: cert.subject().to_string(),
            not_before: v.not_before.to_string(),
            not_after: v.not_after.to_string(),
        })
    }
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

impl TrustRoots {
    /// Roots from PEM text holding one or more certificates. Each must be a self-signed
    /// Ed25519 authority.
    pub fn from_pem(pem: &[u8]) -> Result<TrustRoots, TrustError> {
        let mut anchors = Vec::new();
        for item in Pem::iter_from_buffer(pem) {
            let item = item.map_err(|e| TrustError::BadCertificate(e.to_string()))?;
            let cert = parse(&item.contents)?;
            let key = ed25519_key(&cert)?;
            signed_by(&cert, &key)?;
            if !is_ca(&cert) {
                return Err(TrustError::NotAnAuthority(cert.subject().to_string()));
            }
            anchors.push(Anchor {
                subject: cert.subject().to_string(),
                key,
            });
        }
        if anchors.is_empty() {
            return Err(TrustError::NoCertificate);
        }
        Ok(TrustRoots { anchors })
    }

    /// Roots from a PEM file.
    pub fn from_pem_file(path: &Path) -> Result<TrustRoots, TrustError> {
        let text = std::fs::read(path)
            .map_err(|e| TrustError::BadCertificate(format!("{}: {e}", path.display())))?;
        TrustRoots::from_pem(&text)
    }

    /// How many roots.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Verifies `chain` (DER, leaf first, then intermediates) up to one of the roots, every
    /// certificate valid at `now_unix`; returns the leaf's signer.
    pub fn verify_chain(&self, chain: &[Vec<u8>], now_unix: i64) -> Result<Signer, TrustError> {
        let Some(leaf_der) = chain.first() else {
            return Err(TrustError::NoCertificate);
        };
        let certs = chain
            .iter()
            .map(|der| parse(der))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, cert) in certs.iter().enumerate() {
            valid_at(cert, now_unix)?;
            let issuer_name = cert.issuer().to_string();
            if let Some(next) = certs.get(i + 1) {
                if next.subject().to_string() != issuer_name {
                    return Err(TrustError::UnknownIssuer {
                        subject: cert.subject().to_string(),
                        issuer: issuer_name,
                    });
                }
                if !is_ca(next) {
                    return Err(TrustError::NotAnAuthority(next.subject().to_string()));
                }
                signed_by(cert, &ed25519_key(next)?)?;
                continue;
            }
            // The last certificate must be issued by a root.
            let anchor = self
                .anchors
                .iter()
                .find(|a| a.subject == issuer_name && signed_by(cert, &a.key).is_ok());
            if anchor.is_none() {
                return Err(if self.anchors.iter().any(|a| a.subject == issuer_name) {
                    TrustError::ForgedCertificate(cert.subject().to_string())
                } else {
                    TrustError::UnknownIssuer {
                        subject: cert.subject().to_string(),
                        issuer: issuer_name,
                    }
                });
            }
        }
        let leaf = &certs[0];
        Ok(Signer {
            subject: leaf.subject().to_string(),
            issuer: leaf.issuer().to_string(),
            serial: leaf.raw_serial_as_string(),
            fingerprint: sha256_hex(leaf_der),
            not_after: leaf.validity().not_after.to_string(),
            key: ed25519_key(leaf)?,
        })
    }
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// DER of every certificate in PEM text (for a device's or signer's own chain).
pub fn pem_chain(pem: &[u8]) -> Result<Vec<Vec<u8>>, TrustError> {
    let mut out = Vec::new();
    for item in Pem::iter_from_buffer(pem) {
        out.push(
            item.map_err(|e| TrustError::BadCertificate(e.to_string()))?
                .contents,
        );
    }
    if out.is_empty() {
        return Err(TrustError::NoCertificate);
    }
    Ok(out)
}

/// Seconds since 1970 now.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
