//! A real PostgreSQL server for tests, on a private port and data directory: Debian's
//! `postgresql` binaries (`initdb`, `pg_ctl`), started as the `postgres` user when the tests
//! run as root (PostgreSQL refuses to run as root), trusting connections from loopback only,
//! stopped when dropped. Each test takes a database of its own ([`TestPostgres::database`]).

use crate::error::{Result, SimError};
use std::path::PathBuf;
use std::process::Command;

/// A PostgreSQL server of a test's own.
#[derive(Debug)]
pub struct TestPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Run as this user (`postgres` when the test is root).
    user: Option<String>,
}

/// Where Debian puts the server's binaries (`/usr/lib/postgresql/<major>/bin`), or the PATH.
fn bin_dir() -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("pg_ctl").exists())
        .collect();
    found.sort();
    if let Some(newest) = found.pop() {
        return Ok(newest);
    }
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).find(|d| d.join("pg_ctl").exists()))
        .ok_or_else(|| {
            SimError::Setup(
                "PostgreSQL's binaries are not installed: run scripts/setup-system (Debian package postgresql)".into(),
            )
        })
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(SimError::Setup(format!(
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

impl TestPostgres {
    /// Makes a cluster in a new temporary directory and starts it on a free loopback port.
    pub fn start() -> Result<TestPostgres> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("rekam-pg-").tempdir()?;
        let root = Command::new("id")
            .arg("-u")
            .output()?
            .stdout
            .starts_with(b"0\n");
        let user = root.then(|| "postgres".to_owned());
        if root {
            let uid = String::from_utf8_lossy(
                &Command::new("id").args(["-u", "postgres"]).output()?.stdout,
            )
            .trim()
            .parse::<u32>()
            .map_err(|_| {
                SimError::Setup(
                    "there is no postgres user: install Debian's postgresql package".into(),
                )
            })?;
            std::os::unix::fs::chown(dir.path(), Some(uid), None)?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let pg = TestPostgres {
            dir,
            bin,
            port,
            user,
        };
        let data = pg.data();
        run(
            pg.command("initdb").arg("-D").arg(&data).args([
                "-U",
                "rekam",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ]),
            "initdb",
        )?;
        pg.pg_ctl_start()?;
        Ok(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn pg_ctl_start(&self) -> Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        run(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-w", "-l"])
                .arg(self.dir.path().join("server.log"))
                .args(["-o", &options, "start"]),
            "pg_ctl start",
        )
    }

    /// Stops the server at once (`immediate`: as a crash, open transactions cut), then starts
    /// it again on the same port and data: what a counter's hub meets when PostgreSQL restarts.
    pub fn restart(&self) -> Result<()> {
        self.stop()?;
        self.pg_ctl_start()
    }

    fn stop(&self) -> Result<()> {
        run(
            self.command("pg_ctl").arg("-D").arg(self.data()).args([
                "-m",
                "immediate",
                "-w",
                "stop",
            ]),
            "pg_ctl stop",
        )
    }

    /// A new empty database `name`; its connection string.
    pub fn database(&self, name: &str) -> Result<String> {
        run(
            Command::new(self.bin.join("createdb")).args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "rekam",
                name,
            ]),
            "createdb",
        )?;
        Ok(self.url(name))
    }

    /// The connection string of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("host=127.0.0.1 port={} user=rekam dbname={name}", self.port)
    }

    /// The server's data directory (to check what reached the disk).
    pub fn data_dir(&self) -> PathBuf {
        self.data()
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
