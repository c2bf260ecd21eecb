//! A link between a station and a server that a test can break: a TCP proxy on loopback that
//! forwards faithfully, or refuses, cuts, answers 503 or slows the next connections
//! ([`Fault`]). What the station sees is a real broken link (reset connections, truncated
//! bodies, timeouts), not a mock.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward faithfully.
    Pass,
    /// Accept and close at once: no link.
    Down,
    /// Forward, then cut the connection after this many bytes from the station.
    CutAfter(usize),
    /// Answer 503 without forwarding.
    Unavailable,
    /// Forward, holding every chunk of the answer this long.
    Slow(Duration),
}

/// The proxy: one thread accepting, two per connection relaying.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    connections: Arc<AtomicUsize>,
    /// The clients' side of the connections relayed, to cut when the link goes down.
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// A proxy to `target` on a free loopback port, forwarding faithfully.
    pub fn start(target: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let fault = Arc::new(Mutex::new(Fault::Pass));
        let connections = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (f, n, o) = (fault.clone(), connections.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                n.fetch_add(1, Ordering::Relaxed);
                let fault = *f.lock().unwrap_or_else(|e| e.into_inner());
                // A connection relayed is kept to be cut later; one refused at once is not
                // (a clone kept would hold it open).
                if !matches!(fault, Fault::Down | Fault::Unavailable)
                    && let Ok(kept) = client.try_clone()
                {
                    o.lock().unwrap_or_else(|e| e.into_inner()).push(kept);
                }
                std::thread::spawn(move || relay(client, target, fault));
            }
        });
        Ok(Proxy {
            addr,
            fault,
            connections,
            open,
        })
    }

    /// What the next connections meet. [`Fault::Down`] also cuts the connections open now, as
    /// a pulled cable does (a client's kept-alive connection does not survive it).
    pub fn set(&self, f: Fault) {
        *self.fault.lock().unwrap_or_else(|e| e.into_inner()) = f;
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if f == Fault::Down {
            for c in open.drain(..) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
        // Connections that ended need no cutting.
        open.retain(|c| c.peer_addr().is_ok());
    }

    /// `http://` and the proxy's address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://` and the proxy's address (TLS passes through it untouched).
    pub fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

fn relay(mut client: TcpStream, target: SocketAddr, fault: Fault) {
    match fault {
        Fault::Down => return,
        Fault::Unavailable => {
            let mut buf = [0u8; 4096];
            let _ = client.read(&mut buf);
            let body = r#"{"code":"UNAVAILABLE","message":"maintenance"}"#;
            let _ = write!(
                client,
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            return;
        }
        _ => {}
    }
    let Ok(mut server) = TcpStream::connect(target) else {
        return;
    };
    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let mut sent = 0usize;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match c2.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let n = match fault {
                Fault::CutAfter(limit) => n.min(limit.saturating_sub(sent)),
                _ => n,
            };
            if n == 0 || s2.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n;
        }
        let _ = s2.shutdown(std::net::Shutdown::Both);
        let _ = c2.shutdown(std::net::Shutdown::Both);
    });
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Fault::Slow(d) = fault {
            std::thread::sleep(d);
        }
        if client.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}
