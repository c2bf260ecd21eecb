//! End-to-end tests in the real webview, the official Tauri way on Linux: `tauri-driver` in
//! front of WebKitWebDriver, the real app binary under Xvfb, the device simulators on their
//! real transports (SBI on loopback HTTP, the signature pad on a pty), SIAK's simulator, and a
//! reference data center on loopback. The counter is driven with the keyboard and the mouse as
//! an operator would; every main screen is saved as a PNG in `target/e2e-screens/`.
//!
//! One test drives one WebDriver session from start to end (WebKitWebDriver serves one session
//! at a time).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, key::Key};
use rekam::clock::SystemClock;
use rekam::station::{Station, StationPaths};
use rekam::sync::{SyncConfig, sync_once};
use rekam_gateway::{Config as DcConfig, Gateway};
use rekam_sim::counter::{Counter, OPERATOR, PASSWORD, SEED, bin_dir};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A child process, killed when dropped (even when the test panics).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_default();
    let path = home.join("bin").join("tauri-driver");
    assert!(
        path.exists(),
        "tauri-driver is missing: run the README's test command (scripts/test), which installs \
         it (cargo install tauri-driver --locked)"
    );
    path
}

/// An X server of its own, on the first free display; its number.
fn xvfb() -> (Proc, String) {
    use std::io::BufRead;
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1366x768x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb is missing: run scripts/test, which installs it");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Proc(child), format!(":{}", line.trim()))
}

struct Sims {
    _procs: Vec<Proc>,
    sbi: String,
    siak: String,
    pad: String,
}

fn simulators() -> Sims {
    let bin = bin_dir().unwrap();
    let (sbi, sbi_port) =
        rekam_sim::spawn_ready(Command::new(bin.join("rekam-sim-sbi")).args(["--port", "0"]));
    let (pad, pad_path) =
        rekam_sim::spawn_ready(Command::new(bin.join("rekam-sim-pad")).args(["--speed", "0"]));
    let (siak, siak_port) =
        rekam_sim::spawn_ready(Command::new(bin.join("rekam-sim-siak")).args([
            "--port",
            "0",
            "--residents",
            "8",
        ]));
    Sims {
        _procs: vec![Proc(sbi), Proc(pad), Proc(siak)],
        sbi: format!("http://127.0.0.1:{sbi_port}"),
        siak: format!("http://127.0.0.1:{siak_port}"),
        pad: pad_path,
    }
}

/// Who stands at the simulated devices.
async fn at_devices(sbi: &str, resident: u64) {
    let resp = reqwest::Client::new()
        .post(format!("{sbi}/admin/scenario"))
        .json(&serde_json::json!({ "seed": SEED, "resident": resident }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

struct Screens {
    dir: PathBuf,
}

impl Screens {
    fn new() -> Screens {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screens");
        std::fs::create_dir_all(&dir).unwrap();
        Screens { dir }
    }

    async fn save(&self, c: &Client, name: &str) {
        let png = c.screenshot().await.unwrap();
        std::fs::write(self.dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// The element once it is on screen (the app renders after each command's answer).
async fn wait(c: &Client, css: &str) -> Element {
    match c
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(el) => el,
        Err(e) => {
            Screens::new().save(c, "failed").await;
            panic!(
                "{css} never appeared ({e}); the screen (target/e2e-screens/failed.png):\n{}",
                body_text(c).await
            )
        }
    }
}

/// Waits until the wizard's step title reads `title`.
async fn step_title(c: &Client, title: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(el) = c.find(Locator::Css("#step-title")).await
            && el.text().await.unwrap_or_default() == title
        {
            return;
        }
        if let Ok(err) = c.find(Locator::Css("#error")).await {
            let text = err.text().await.unwrap_or_default();
            if !text.is_empty() {
                panic!("waiting for {title:?}, the screen shows an error: {text}");
            }
        }
        assert!(Instant::now() < deadline, "the step never became {title:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[test]
fn a_counter_day_in_the_real_webview() {
    let dir = tempfile::tempdir().unwrap();

    // The station, its operator and supervisor (fingers enrolled through the SBI simulator), and
    // a data center it is registered with.
    rekam_gateway::init(&dir.path().join("dc"), "DC-E2E").unwrap();
    let mut dc_cfg = DcConfig::new(dir.path().join("dc"));
    dc_cfg.results_delay = Duration::ZERO;
    let gw = Gateway::open(dc_cfg, Arc::new(SystemClock)).unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let dc_url = format!("http://{}", running.addr);
    {
        let mut counter = Counter::open(dir.path(), "BDG-E2E-01", 0).unwrap();
        let token = gw
            .issue_token(&counter.station.identity().station_id)
            .unwrap();
        let answered = rekam_sync::register(
            &dc_url,
            None,
            &counter.station.registration(&token).unwrap(),
        )
        .unwrap();
        counter
            .station
            .pin_data_center(gw.identity(), &answered, "test")
            .unwrap();
    }
    let data_dir = dir.path().join("BDG-E2E-01");

    let sims = simulators();
    let (_x, display) = xvfb();
    let port = free_port();
    let _driver = Proc(
        Command::new(tauri_driver())
            .args(["--port", &port.to_string()])
            .args(["--native-port", &free_port().to_string()])
            .env("DISPLAY", &display)
            .env("REKAM_DATA_DIR", &data_dir)
            .env("REKAM_PAD", &sims.pad)
            .env("REKAM_SBI_PORTS", sims.sbi.rsplit(':').next().unwrap())
            .env(
                "REKAM_SBI_TRUST",
                rekam_sim::card::test_key("test-sbi-provider-ca.crt.pem"),
            )
            .env("REKAM_SIAK_URL", &sims.siak)
            .env("REKAM_TRAINING_SBI", &sims.sbi)
            .env("HOME", dir.path())
            .env_remove("REKAM_LANG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(Screens::new().dir.join("app.log")).unwrap())
            .spawn()
            .unwrap(),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(drive(port, sims, data_dir, dc_url, running));
}

async fn drive(
    port: u16,
    sims: Sims,
    data_dir: PathBuf,
    dc_url: String,
    running: rekam_gateway::Running,
) {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": env!("CARGO_BIN_EXE_rekam-desktop") }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let c = loop {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("tauri-driver did not start a session: {e}"),
        }
    };
    // Always end the session, even when a step fails: one session at a time.
    let result = tokio::spawn(counter_day(
        c.clone(),
        sims.sbi.clone(),
        data_dir.clone(),
        dc_url.clone(),
        running,
    ))
    .await;
    let _ = c.close().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn counter_day(
    c: Client,
    sbi: String,
    data_dir: PathBuf,
    dc_url: String,
    running: rekam_gateway::Running,
) {
    let shots = Screens::new();

    // Home, in Bahasa Indonesia, with the login form and every device found.
    wait(&c, "#login-id").await;
    let home = body_text(&c).await;
    for needle in [
        "Status stasiun",
        "BDG-E2E-01",
        "Masuk operator",
        "Latihan (F9)",
    ] {
        assert!(
            home.contains(needle),
            "{needle:?} not on the home screen:\n{home}"
        );
    }
    let devices = wait(&c, "#devices .device.ready").await;
    assert!(!devices.text().await.unwrap().is_empty());
    shots.save(&c, "01-login").await;

    // A wrong password is refused without saying which factor failed.
    at_devices(&sbi, OPERATOR).await;
    c.find(Locator::Css("#login-id"))
        .await
        .unwrap()
        .send_keys("OP-01")
        .await
        .unwrap();
    let pw = c.find(Locator::Css("#login-password")).await.unwrap();
    pw.send_keys(&format!("salah-sekali{}", Key::Enter))
        .await
        .unwrap();
    let err = wait(&c, "#error").await;
    assert!(
        err.text().await.unwrap().contains("LOGIN_FAILED"),
        "{}",
        err.text().await.unwrap()
    );

    // Password and the right index finger, from the keyboard alone.
    let pw = c.find(Locator::Css("#login-password")).await.unwrap();
    pw.send_keys(&format!("{PASSWORD}{}", Key::Enter))
        .await
        .unwrap();
    wait(&c, "#start").await;
    assert!(body_text(&c).await.contains("Siti Operator (OP-01)"));

    // Training: the roster of generated residents; resident 0 steps up to the devices.
    c.find(Locator::Css("#nav-training"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let roster = wait(&c, "#roster").await;
    let rows = roster.find_all(Locator::Css("tr")).await.unwrap();
    let nik_of = |i: usize| {
        let row = rows[i].clone();
        async move {
            row.find(Locator::Css("td.mono"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let nik = nik_of(0).await;
    let under_17 = nik_of(3).await;
    assert_eq!(nik.len(), 16, "{nik}");
    wait(&c, "#present-0").await.click().await.unwrap();
    wait(&c, "#presented").await;
    shots.save(&c, "02-training").await;

    // The recording, in the SOP's order, from queue number to summons letter.
    c.find(Locator::Css("#nav-record"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait(&c, "#start")
        .await
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    step_title(&c, "Dokumen").await;
    let queue = wait(&c, "#queue").await.text().await.unwrap();
    assert!(queue.starts_with("Nomor antrean "), "{queue}");
    shots.save(&c, "03-documents").await;
    wait(&c, "#documents-next").await.click().await.unwrap();
    step_title(&c, "Biodata (NIK)").await;
    wait(&c, "#nik")
        .await
        .send_keys(&format!("{nik}{}", Key::Enter))
        .await
        .unwrap();
    step_title(&c, "Konfirmasi & kelayakan").await;
    let biodata = wait(&c, "#biodata").await.text().await.unwrap();
    assert!(biodata.contains(&nik), "{biodata}");
    shots.save(&c, "04-biodata").await;
    wait(&c, "#confirm").await.click().await.unwrap();

    for (title, shot) in [
        ("Foto", None),
        ("Tanda tangan", None),
        ("Sidik jari 4-4-2", None),
        ("Iris", Some("05-fingers-done")),
        ("Verifikasi telunjuk", None),
        ("Cek data ganda", None),
        ("Tanda tangan pernyataan", None),
        ("Sidik jari operator", None),
    ] {
        step_title(&c, title).await;
        if let Some(name) = shot {
            shots.save(&c, name).await;
        }
        if title == "Sidik jari operator" {
            // The operator puts their own finger on the scanner.
            at_devices(&sbi, OPERATOR).await;
        }
        wait(&c, "#capture").await.click().await.unwrap();
    }
    step_title(&c, "Segel & simpan").await;
    wait(&c, "#capture").await.click().await.unwrap();
    let letter = wait(&c, "#summons").await.text().await.unwrap();
    assert!(letter.contains("Surat panggilan"), "{letter}");
    assert!(
        letter.contains(&queue.replace("Nomor antrean ", "")),
        "{letter}"
    );
    assert!(
        !letter.contains(&nik) && letter.contains(&nik[..6]),
        "the letter's screen shows the masked NIK only: {letter}"
    );
    wait(&c, "#qr svg").await;
    shots.save(&c, "06-summons").await;

    // The next resident is 16 and never married: refused with where to go next.
    wait(&c, "#next-visit").await.click().await.unwrap();
    wait(&c, "#start").await.click().await.unwrap();
    wait(&c, "#documents-next").await.click().await.unwrap();
    wait(&c, "#nik")
        .await
        .send_keys(&format!("{under_17}{}", Key::Enter))
        .await
        .unwrap();
    wait(&c, "#confirm").await.click().await.unwrap();
    let refused = wait(&c, "#refused").await.text().await.unwrap();
    assert!(refused.contains("ELIG_UNDER_AGE"), "{refused}");
    assert!(refused.contains("17"), "{refused}");
    shots.save(&c, "07-refused").await;

    // The link to the data center is cut and the background sync's next pass fails: the
    // backlog screen lists the recording, masked, with its state, age and next step.
    let pass = tokio::task::spawn_blocking(move || {
        drop(running);
        let mut station =
            Station::open(StationPaths::new(&data_dir, None), Arc::new(SystemClock)).unwrap();
        sync_once(&mut station, &SyncConfig::new(&dc_url)).unwrap()
    })
    .await
    .unwrap();
    assert!(!pass.link_up && pass.remaining == 1, "{pass:?}");
    c.find(Locator::Css("#nav-backlog"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = wait(&c, "#backlog").await.text().await.unwrap();
    assert!(
        table.contains(&nik[..6]) && !table.contains(&nik),
        "{table}"
    );
    // A dead link fails the whole pass, not a record: the record waits its turn, unsent.
    assert!(
        table.contains("BIO_CAPTURED") && table.contains("menunggu giliran kirim"),
        "{table}"
    );
    shots.save(&c, "08-backlog").await;

    // English on request, and the backlog stays.
    c.find(Locator::Css("#lang-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !body_text(&c).await.contains("Backlog (stuck records)") {
        assert!(Instant::now() < deadline, "{}", body_text(&c).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shots.save(&c, "09-backlog-en").await;
}
