//! TLS for a server stations reach: a self-signed certificate made when the server is set up
//! (its PEM and SHA-256 go into the identity file the Dinas hands over, `dc-identity.json` or
//! `hub-identity.json`, so stations trust exactly it), and a listener that completes handshakes
//! concurrently, so a slow or broken client never holds up the others.

use crate::ServeError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// A new self-signed certificate for `names` (DNS names or IP addresses) under the common name
/// `common_name`: (certificate PEM, key PEM, SHA-256 of the certificate's DER, hex).
pub fn generate(
    names: &[String],
    common_name: &str,
) -> Result<(String, zeroize::Zeroizing<String>, String), ServeError> {
    let tls = |e: rcgen::Error| ServeError::Tls(e.to_string());
    let key = rcgen::KeyPair::generate().map_err(tls)?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(tls)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let cert = params.self_signed(&key).map_err(tls)?;
    let pin = hex::encode(rekam_packet::sha256(&[cert.der()]));
    Ok((
        cert.pem(),
        zeroize::Zeroizing::new(key.serialize_pem()),
        pin,
    ))
}

/// The server configuration from the certificate and key files.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ServeError> {
    let pem = |path: &Path, e: rustls::pki_types::pem::Error| ServeError::BadFile {
        path: path.to_owned(),
        problem: e.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem(cert, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| pem(cert, e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem(key, e))?;
    let tls = |e: rustls::Error| ServeError::Tls(e.to_string());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls)?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(tls)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener whose connections have completed their TLS handshake.
#[derive(Debug)]
pub struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `tcp`, each handshake in a task of its own, at most `handshakes` at once
    /// (a connection past that waits in the kernel's queue, unaccepted).
    pub fn new(
        tcp: TcpListener,
        acceptor: TlsAcceptor,
        handshakes: usize,
    ) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let slots = Arc::new(tokio::sync::Semaphore::new(handshakes.max(1)));
        tokio::spawn(async move {
            loop {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                match tcp.accept().await {
                    Ok((stream, addr)) => {
                        let (acceptor, tx) = (acceptor.clone(), tx.clone());
                        tokio::spawn(async move {
                            match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => {
                                    // The slot is held until the connection is handed over,
                                    // so handshaken connections waiting for the server count.
                                    let _ = tx.send((tls, addr)).await;
                                    drop(slot);
                                }
                                Ok(Err(e)) => {
                                    tracing::debug!(%addr, error = %e, "TLS handshake failed")
                                }
                                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept task ended (the runtime is shutting down): nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
