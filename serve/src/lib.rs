//! Serving stations: what the data center's gateway (`rekam-gateway`) and the kecamatan server
//! (`rekam-hub`) share below their routes.
//!
//! - [`tls`]: a self-signed certificate made when a server is set up, whose PEM goes into the
//!   identity file stations pin (they trust no other certificate), and a listener that
//!   completes TLS handshakes concurrently;
//! - [`serve`]: HTTP/1 on any listener with a bound on connections served at once and on the
//!   time a client may take over a request's headers.
//!
//! Invariant: a client that connects and then stays silent holds one connection slot for at
//! most [`ConnectionLimits::headers`] (or its handshake's timeout), never for ever.

pub mod tls;

use std::path::PathBuf;
use std::time::Duration;

/// Why a server could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The TLS certificate could not be made or loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// A certificate or key file that is not what it should be.
    #[error("{}: {problem}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// Refuses to serve plain HTTP on `addr` unless it is loopback: stations' requests and
/// packets never cross a network in clear (`what` names the server and its way to HTTPS).
pub fn plain_http_only_on_loopback(
    tls: bool,
    addr: std::net::SocketAddr,
    how_to_serve_https: &str,
) -> std::io::Result<()> {
    if tls || addr.ip().is_loopback() {
        return Ok(());
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "plain HTTP on {addr}: served on loopback only (127.0.0.1, ::1); {how_to_serve_https}"
        ),
    ))
}

/// How many clients at once, and how long one may take over its headers.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections served at once; more wait to be accepted.
    pub connections: usize,
    /// From the connection's start (or the end of the previous request) to the end of a
    /// request's headers; a silent or dribbling client is disconnected after it.
    pub headers: Duration,
}

/// Serves `router` on the connections of `listener`: at most [`ConnectionLimits::connections`]
/// at once, each given [`ConnectionLimits::headers`] to finish a request's headers (or to
/// start one on a kept connection) before it is closed. `axum::serve` has no such limit: a
/// client that opens connections and never finishes its headers would hold them for ever.
pub async fn serve<L>(
    mut listener: L,
    router: axum::Router,
    limits: ConnectionLimits,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
{
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.connections.max(1)));
    loop {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .map_err(std::io::Error::other)?;
        let (io, _) = listener.accept().await;
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.headers)
                .serve_connection(hyper_util::rt::TokioIo::new(io), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(slot);
        });
    }
}

/// A server on a thread of its own ([`spawn`]), for tests, benchmarks and demos.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops serving: open connections are dropped, the listener closed, the thread joined.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test's server lives as long as its handle; dropping it stops the server.
        self.halt();
    }
}

/// Runs `serve` on `listener` in a runtime on a thread of its own until [`Running::stop`] (or
/// the handle's drop); `what` names the server in the log if it stops by itself.
pub fn spawn<F, Fut>(
    listener: std::net::TcpListener,
    what: &'static str,
    serve: F,
) -> std::io::Result<Running>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>>,
{
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let served = tokio::runtime::Runtime::new().and_then(|rt| {
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                tokio::select! {
                    r = serve(listener) => r,
                    _ = stopped => Ok(()),
                }
            })
        });
        if let Err(e) = served {
            tracing::error!(error = %e, "{what} stopped");
        }
    });
    Ok(Running {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}
