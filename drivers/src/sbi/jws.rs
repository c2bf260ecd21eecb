//! JSON Web Signatures (RFC 7515, compact form) as SBI devices send them: the header names the
//! algorithm and carries the signer's certificate chain (`x5c`, standard base64 DER, leaf
//! first). Only `EdDSA` (Ed25519) is accepted.

use crate::trust::{Signer, TrustError, TrustRoots};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    x5c: Vec<String>,
}

/// Decodes base64url with or without padding, as devices differ.
pub(crate) fn b64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// Encodes base64url without padding.
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Why a JWS is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts, or the header is not JSON.
    #[error("malformed signature envelope: {0}")]
    Malformed(&'static str),
    /// The chain or the signature failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// Verifies a compact JWS against `roots` at `now_unix`; returns the payload and who signed it.
pub fn verify(
    token: &str,
    roots: &TrustRoots,
    now_unix: i64,
) -> Result<(Vec<u8>, Signer), JwsError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed("not three parts"));
    };
    let header: Header = b64url(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwsError::Malformed("header"))?;
    if header.alg != "EdDSA" {
        return Err(TrustError::UnsupportedAlgorithm(format!("JWS alg {}", header.alg)).into());
    }
    let chain = header
        .x5c
        .iter()
        .map(|c| STANDARD.decode(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| JwsError::Malformed("x5c"))?;
    let signer = roots.verify_chain(&chain, now_unix)?;
    let payload = b64url(p).ok_or(JwsError::Malformed("payload"))?;
    let signature = b64url(s).ok_or(JwsError::Malformed("signature"))?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    signer.verify(
        signing_input.as_bytes(),
        &signature,
        "the device's response",
    )?;
    Ok((payload, signer))
}

/// Builds a compact JWS with `sign` (the simulator's device key) and `chain` in `x5c`.
pub fn sign(payload: &[u8], chain: &[Vec<u8>], sign: impl FnOnce(&[u8]) -> [u8; 64]) -> String {
    let header = serde_json::json!({
        "alg": "EdDSA",
        "typ": "JWT",
        "x5c": chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>(),
    });
    let input = format!(
        "{}.{}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(payload)
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64url_encode(&sig))
}
