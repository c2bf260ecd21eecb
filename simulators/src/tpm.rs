//! A software TPM 2.0 (`swtpm` from Debian) on loopback, one per test: what a counter PC's TPM
//! chip is to the station's TPM slot, spoken to over the same TPM 2.0 command protocol.

use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};
use tss_esapi::handles::PcrHandle;
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::structures::{Digest, DigestValues};
use tss_esapi::{Context, TctiNameConf};

/// A running `swtpm`, its state in a directory of its own; killed when dropped.
#[derive(Debug)]
pub struct SoftTpm {
    child: Child,
    port: u16,
    _state: tempfile::TempDir,
}

impl SoftTpm {
    /// A fresh TPM (a machine of its own: its own seeds), powered on and started up.
    pub fn start() -> Result<SoftTpm, String> {
        let state = tempfile::tempdir().map_err(|e| format!("a state directory: {e}"))?;
        // swtpm takes the port for commands and the next one for its control channel; a port
        // taken meanwhile by someone else makes it exit, and another pair is tried.
        for _ in 0..20 {
            let port = free_port_pair()?;
            let mut child = Command::new("swtpm")
                .arg("socket")
                .arg("--tpm2")
                .arg("--tpmstate")
                .arg(format!("dir={}", state.path().display()))
                .arg("--server")
                .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                .arg("--ctrl")
                .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                .args(["--flags", "not-need-init,startup-clear"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| {
                    format!("cannot start swtpm ({e}): install swtpm (scripts/setup-system)")
                })?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(SoftTpm {
                        child,
                        port,
                        _state: state,
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err("swtpm did not start on any port tried".into())
    }

    /// The TCTI that reaches it.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// The machine boots otherwise (another boot loader, Secure Boot turned off): PCR `pcr`
    /// is extended, so it no longer holds what it held.
    pub fn boot_otherwise(&self, pcr: u8) -> Result<(), String> {
        let handle = match pcr {
            0 => PcrHandle::Pcr0,
            7 => PcrHandle::Pcr7,
            other => return Err(format!("PCR {other}: only 0 and 7 here")),
        };
        let conf = TctiNameConf::from_str(&self.tcti()).map_err(|e| e.to_string())?;
        let mut ctx = Context::new(conf).map_err(|e| e.to_string())?;
        let mut values = DigestValues::new();
        let digest = Digest::try_from(vec![0x5a; 32]).map_err(|e| e.to_string())?;
        values.set(HashingAlgorithm::Sha256, digest);
        ctx.execute_with_nullauth_session(|c| c.pcr_extend(handle, values))
            .map_err(|e| e.to_string())
    }
}

impl Drop for SoftTpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port whose successor is free too (both found free a moment ago).
fn free_port_pair() -> Result<u16, String> {
    for _ in 0..50 {
        let first = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
        let port = first.local_addr().map_err(|e| e.to_string())?.port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err("no two free ports side by side".into())
}
