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
use rekam::workflow::operators::Role;
use rekam_gateway::{Config as DcConfig, Gateway};
use rekam_sim::counter::{Counter, DINAS_ADMIN, OPERATOR, PASSWORD, SEED, TECHNICIAN, bin_dir};
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
            "10",
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

    /// The screens of an earlier run are removed, so every file is from this one.
    fn clear(&self) {
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "png") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
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

/// Clicks the element once it is on screen; found again when the screen redrew it between
/// finding and clicking (the frame refreshes after each command).
async fn click(c: &Client, css: &str) {
    for _ in 0..50 {
        match wait(c, css).await.click().await {
            Ok(()) => return,
            Err(e) if e.is_stale_element_reference() => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("clicking {css}: {e}"),
        }
    }
    panic!("{css} was redrawn under every click");
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
    Screens::new().clear();

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
        // The counter also serves the Dinas here (its administrator personalises cards).
        let token = gw
            .issue_token_for(
                &counter.station.identity().station_id,
                rekam_gateway::StationRole::Dinas,
            )
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
        counter
            .enrol("ADM-01", "Dewi Admin Dinas", Role::DinasAdmin, DINAS_ADMIN)
            .unwrap();
    }
    let data_dir = dir.path().join("BDG-E2E-01");

    let sims = simulators();
    // The card secrets in a SoftHSM2 token, as a Dinas's counter holds them.
    let hsm = rekam_sim::card::SoftHsm::provision(true).unwrap();
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
            .env("REKAM_DC_URL", &dc_url)
            .env("REKAM_SYNC_IDLE", "1")
            .env("REKAM_CARD_READER", rekam_sim::card::VIRTUAL_READER)
            .env(
                "REKAM_CARD_CSCA",
                rekam_sim::card::test_key("test-card-csca.crt.pem"),
            )
            .envs(hsm.env())
            .env(
                "REKAM_CARD_DS_CERT",
                rekam_sim::card::test_key("test-card-ds-dinas.crt.pem"),
            )
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
    let dc = DataCenter { gw, running };
    rt.block_on(drive(port, sims, dir.path().join("usb"), dc));
}

/// The reference data center and its server, stopped and started again on the same address
/// as a link that goes down and comes back.
struct DataCenter {
    gw: Gateway,
    running: rekam_gateway::Running,
}

async fn drive(port: u16, sims: Sims, usb: PathBuf, dc: DataCenter) {
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
    let result = tokio::spawn(counter_day(c.clone(), sims.sbi.clone(), usb, dc)).await;
    let _ = c.close().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn counter_day(c: Client, sbi: String, usb: PathBuf, dc: DataCenter) {
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
    click(&c, "#nav-training").await;
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
    let recorded_elsewhere = nik_of(5).await;
    assert_eq!(nik.len(), 16, "{nik}");
    // Another resident with nothing special about their visit, for after the link is cut.
    let mut second = None;
    for (i, row) in rows.iter().enumerate().skip(1) {
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        let nik = cells[1].text().await.unwrap();
        let case = row.attr("data-case").await.unwrap().unwrap_or_default();
        if cells[4].text().await.unwrap().is_empty() && nik.len() == 16 && case == "new_recording" {
            second = Some((i, nik));
            break;
        }
    }
    let (second, second_nik) = second.expect("a resident without an edge case");
    click(&c, "#present-0").await;
    wait(&c, "#presented").await;
    shots.save(&c, "02-training").await;

    // The recording, in the SOP's order, from queue number to summons letter.
    click(&c, "#nav-record").await;
    let (queue, letter) = record(&c, &sbi, &nik, Some(&shots)).await;
    let packet_id: String = letter
        .split("Nomor rekaman")
        .nth(1)
        .map(|rest| rest.trim_start().chars().take(36).collect())
        .unwrap_or_default();
    assert_eq!(
        packet_id.matches('-').count(),
        4,
        "no record number on the letter: {letter}"
    );
    assert!(queue.starts_with("Nomor antrean "), "{queue}");
    assert!(letter.contains("Surat panggilan"), "{letter}");
    assert!(
        letter.contains(&queue.replace("Nomor antrean ", "")),
        "{letter}"
    );
    assert!(
        !letter.contains(&nik) && letter.contains(&nik[..6]),
        "the letter's screen shows the masked NIK only: {letter}"
    );
    shots.save(&c, "06-summons").await;

    // The background sync sends it: the sync screen shows it at the data center.
    click(&c, "#nav-sync").await;
    wait_text(&c, "#sync-share", "1 dari 1 rekaman sudah di DC").await;
    shots.save(&c, "07-sync").await;

    // The next resident is 16 and never married: refused with where to go next.
    click(&c, "#nav-record").await;
    click(&c, "#next-visit").await;
    click(&c, "#start").await;
    click(&c, "#documents-next").await;
    wait(&c, "#nik")
        .await
        .send_keys(&format!("{under_17}{}", Key::Enter))
        .await
        .unwrap();
    click(&c, "#confirm").await;
    let refused = wait(&c, "#refused").await.text().await.unwrap();
    assert!(refused.contains("ELIG_UNDER_AGE"), "{refused}");
    assert!(refused.contains("17"), "{refused}");
    shots.save(&c, "08-refused").await;
    click(&c, "#next-visit").await;

    // Handover: resident 0's card on the reader (vpcd), the chip authenticated, both index
    // fingers matched against it, the receipt signed on the pad. (No other test of this
    // binary uses the reader.)
    rekam_sim::card::ensure_pcscd().unwrap();
    let card = insert_card(&["--resident", "0"]);
    at_devices(&sbi, 0).await;
    click(&c, "#nav-handover").await;
    wait(&c, "#handover-queue")
        .await
        .send_keys(&format!("A-001{}", Key::Enter))
        .await
        .unwrap();
    step_title(&c, "Baca kartu").await;
    click(&c, "#card-read").await;
    step_title(&c, "Cek data chip").await;
    let chip = wait(&c, "#chip-biodata").await.text().await.unwrap();
    assert!(chip.contains(&nik), "{chip}");
    shots.save(&c, "09-handover-chip").await;
    click(&c, "#chip-confirm").await;
    step_title(&c, "Verifikasi sidik jari").await;
    click(&c, "#handover-verify").await;
    step_title(&c, "Tanda terima").await;
    click(&c, "#old-ktp").await;
    click(&c, "#receipt-sign").await;
    let handed = wait(&c, "#handed-over").await.text().await.unwrap();
    assert!(handed.contains("berhasil"), "{handed}");
    shots.save(&c, "10-handover").await;
    click(&c, "#next-handover").await;
    drop(card);

    // A lost card, from the keyboard (F5): the resident was recorded elsewhere, so the request
    // is taken without recording again and the temporary letter is ready.
    wait(&c, "#handover-queue")
        .await
        .send_keys(&Key::F5.to_string())
        .await
        .unwrap();
    wait(&c, "#reissue-nik")
        .await
        .send_keys(&format!("{recorded_elsewhere}{}", Key::Enter))
        .await
        .unwrap();
    let reissued = wait(&c, "#reissued").await.text().await.unwrap();
    assert!(
        reissued.contains("Surat keterangan")
            && reissued.contains("hilang")
            && reissued.contains(&recorded_elsewhere[..6])
            && !reissued.contains(&recorded_elsewhere),
        "{reissued}"
    );
    shots.save(&c, "11-reissue").await;
    // The next request's screen lists the one taken, with where it stands: waiting for the
    // sync pass, or already refused by the data center, which holds no recording of a resident
    // recorded elsewhere, with what to do.
    click(&c, "#reissue-next").await;
    let sent = wait(&c, "#reissue-sent-list").await.text().await.unwrap();
    assert!(
        sent.contains("hilang")
            && sent.contains(&recorded_elsewhere[..6])
            && (sent.contains("Menunggu dikirim") || sent.contains("NO_CLEAN_RECORD")),
        "{sent}"
    );

    // The link to the data center is cut; the next resident is recorded all the same, and the
    // sync screen and the backlog say the link is down.
    let DataCenter { gw, running } = dc;
    let dc_addr = running.addr;
    drop(running);
    click(&c, "#nav-training").await;
    wait(&c, &format!("#present-{second}"))
        .await
        .click()
        .await
        .unwrap();
    wait(&c, "#presented").await;
    click(&c, "#nav-record").await;
    let (_, letter) = record(&c, &sbi, &second_nik, None).await;
    assert!(letter.contains(&second_nik[..6]), "{letter}");
    click(&c, "#nav-sync").await;
    wait_text(&c, "#sync-last", "terputus").await;
    wait_text(&c, "#sync-share", "1 dari 2").await;
    shots.save(&c, "12-sync-down").await;
    click(&c, "#nav-backlog").await;
    let table = wait(&c, "#backlog").await.text().await.unwrap();
    assert!(
        table.contains(&second_nik[..6]) && !table.contains(&second_nik),
        "{table}"
    );
    // A dead link fails the pass, not a record: the record says it waits for the link.
    assert!(
        table.contains("BIO_CAPTURED") && table.contains("periksa kabel jaringan"),
        "{table}"
    );
    shots.save(&c, "13-backlog").await;

    // The technician drains the station to an external disk, with progress.
    relog(&c, &sbi, "TEK-01", TECHNICIAN).await;
    click(&c, "#nav-export").await;
    std::fs::create_dir_all(&usb).unwrap();
    let to = wait(&c, "#export-to").await;
    to.clear().await.unwrap();
    to.send_keys(&format!("{}{}", usb.display(), Key::Enter))
        .await
        .unwrap();
    let done = wait(&c, "#export-done").await.text().await.unwrap();
    assert!(done.contains("1 paket diekspor"), "{done}");
    let progress = wait(&c, "#export-progress-text")
        .await
        .text()
        .await
        .unwrap();
    assert!(progress.starts_with("1 dari 1 paket"), "{progress}");
    shots.save(&c, "14-export").await;
    let bundle = usb.join("BDG-E2E-01");
    assert!(bundle.join("manifest.json").exists() && bundle.join("manifest.sig").exists());
    assert_eq!(
        std::fs::read_dir(bundle.join("packets")).unwrap().count(),
        1
    );

    // The day's report and the settings page.
    click(&c, "#nav-report").await;
    let visits = wait(&c, "#report-visits").await.text().await.unwrap();
    assert!(
        visits.contains("recording") && visits.contains("handover"),
        "{visits}"
    );
    let refusals = wait(&c, "#report-refusals").await.text().await.unwrap();
    assert!(refusals.contains("ELIG_UNDER_AGE"), "{refusals}");
    shots.save(&c, "15-report").await;
    click(&c, "#nav-settings").await;
    let settings = wait(&c, "#settings-dc").await.text().await.unwrap();
    assert!(settings.contains("DC-E2E"), "{settings}");
    shots.save(&c, "16-settings").await;

    // English on request.
    click(&c, "#nav-backlog").await;
    wait(&c, "#backlog").await;
    click(&c, "#lang-toggle").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !body_text(&c).await.contains("Backlog (stuck records)") {
        assert!(Instant::now() < deadline, "{}", body_text(&c).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // After the export the record is on its way with the technicians.
    assert!(
        body_text(&c)
            .await
            .contains("carried by the technical team")
    );
    shots.save(&c, "17-backlog-en").await;
    click(&c, "#lang-toggle").await;
    wait_text(&c, "#nav", "Data mengendap (F6)").await;

    // At the Dinas, once the link is back: the administrator picks resident 0's record from
    // the regency's print queue, checks its print order, and writes it to a blank card.
    let _running = gw.spawn(&dc_addr.to_string()).unwrap();
    // The cable is back: the technician does not wait for the sync's next try. The exported
    // record goes online too (the data center keeps one record per packet).
    click(&c, "#nav-sync").await;
    wait_text(&c, "#sync-share", "1 dari 2").await;
    click(&c, "#sync-now").await;
    wait_text(&c, "#sync-share", "2 dari 2").await;
    shots.save(&c, "18-sync-now").await;
    relog(&c, &sbi, "ADM-01", DINAS_ADMIN).await;
    pick_from_print_queue(&c, &packet_id).await;
    let order = wait(&c, "#order-biodata").await.text().await.unwrap();
    assert!(
        order.contains(&nik) && order.contains("2 dari 2"),
        "{order}"
    );
    let _blank = insert_card(&["--card", "blank", "--resident", "9"]);
    click(&c, "#personalise-write").await;
    let done = wait(&c, "#personalised").await.text().await.unwrap();
    assert!(
        done.contains("Kartu dipersonalisasi") && done.contains(&nik[..6]),
        "{done}"
    );
    let face = wait(&c, "#card-face").await.attr("src").await.unwrap();
    assert!(
        face.is_some_and(|src| src.starts_with("data:image/png;base64,")),
        "the card face is shown"
    );
    shots.save(&c, "19-personalised").await;
}

/// A full recording from the start screen, in the SOP's order, of the resident at the devices
/// with `nik`: the queue number and the summons letter's text. Screens saved when `shots`.
async fn record(c: &Client, sbi: &str, nik: &str, shots: Option<&Screens>) -> (String, String) {
    let save = |name: &'static str| async move {
        if let Some(s) = shots {
            s.save(c, name).await;
        }
    };
    wait(c, "#start")
        .await
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    step_title(c, "Dokumen").await;
    let queue = wait(c, "#queue").await.text().await.unwrap();
    save("03-documents").await;
    click(c, "#documents-next").await;
    step_title(c, "Biodata (NIK)").await;
    wait(c, "#nik")
        .await
        .send_keys(&format!("{nik}{}", Key::Enter))
        .await
        .unwrap();
    step_title(c, "Konfirmasi & kelayakan").await;
    let biodata = wait(c, "#biodata").await.text().await.unwrap();
    assert!(biodata.contains(nik), "{biodata}");
    save("04-biodata").await;
    click(c, "#confirm").await;
    for title in [
        "Foto",
        "Tanda tangan",
        "Sidik jari 4-4-2",
        "Iris",
        "Verifikasi telunjuk",
        "Cek data ganda",
        "Tanda tangan pernyataan",
        "Sidik jari operator",
    ] {
        step_title(c, title).await;
        if title == "Iris" && shots.is_some() {
            // The iris camera's live picture (SBI STREAM) beside the capture button.
            wait_preview(c, "iris").await;
            save("05-fingers-done").await;
        }
        if title == "Verifikasi telunjuk" && shots.is_some() {
            // The irises just taken are named as eyes; the slaps can be taken again from
            // here (the advice of an index finger that matches no slap), the step stays.
            wait_text(c, "#last", "iris kanan, iris kiri").await;
            click(c, "#retake-fingers").await;
            wait_text(c, "#last", "kelingking kiri").await;
            step_title(c, title).await;
        }
        if title == "Sidik jari operator" {
            // The operator puts their own finger on the scanner.
            at_devices(sbi, OPERATOR).await;
        }
        click(c, "#capture").await;
    }
    step_title(c, "Segel & simpan").await;
    click(c, "#capture").await;
    let letter = wait(c, "#summons").await.text().await.unwrap();
    wait(c, "#qr svg").await;
    (queue, letter)
}

/// The one logged in leaves and `operator_id` logs in, the finger of generated resident
/// `finger` on the scanner.
async fn relog(c: &Client, sbi: &str, operator_id: &str, finger: u64) {
    click(c, "#nav-logout").await;
    at_devices(sbi, finger).await;
    wait(c, "#login-id")
        .await
        .send_keys(operator_id)
        .await
        .unwrap();
    c.find(Locator::Css("#login-password"))
        .await
        .unwrap()
        .send_keys(&format!("{PASSWORD}{}", Key::Enter))
        .await
        .unwrap();
}

/// Waits until the live preview of `device` shows a frame from the SBI stream.
async fn wait_preview(c: &Client, device: &str) {
    let figure = wait(c, "#preview-figure").await;
    assert_eq!(
        figure.attr("data-device").await.unwrap().as_deref(),
        Some(device)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let src = c
            .find(Locator::Css("#preview"))
            .await
            .unwrap()
            .attr("src")
            .await
            .unwrap_or_default();
        if src.is_some_and(|s| s.starts_with("data:image/jpeg;base64,")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no preview frame: {}",
            body_text(c).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the personalisation screen until the print queue lists `packet_id` (its result may
/// still be on its way), and picks it.
async fn pick_from_print_queue(c: &Client, packet_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let row = format!(
        "//table[@id='print-queue-list']//tr[td/span[text()='{}']]//button",
        &packet_id[..8]
    );
    loop {
        click(c, "#nav-personalise").await;
        wait(c, "#order-packet").await;
        // The queue arrives after the form: listed, empty, or unavailable.
        let listed = loop {
            if let Ok(pick) = c.find(Locator::XPath(&row)).await {
                break Some(pick);
            }
            if c.find(Locator::Css(
                "#print-queue-empty, #print-queue-error, #print-queue-list",
            ))
            .await
            .is_ok()
            {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if let Some(pick) = listed {
            pick.click().await.unwrap();
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{packet_id} never on the print queue: {}",
            body_text(c).await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until the element's text contains `needle` (a screen that refreshes itself).
async fn wait_text(c: &Client, css: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && el.text().await.unwrap_or_default().contains(needle)
        {
            return;
        }
        if Instant::now() > deadline {
            Screens::new().save(c, "failed").await;
            panic!(
                "{css} never read {needle:?}; the screen (target/e2e-screens/failed.png):\n{}",
                body_text(c).await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A virtual card (`rekam-sim-card` with `args`) in the virtual reader, taken out when
/// dropped.
fn insert_card(args: &[&str]) -> Proc {
    use rekam_drivers::card::pcsc::PcscReader;
    let (child, _) = rekam_sim::spawn_ready(
        Command::new(bin_dir().unwrap().join("rekam-sim-card"))
            .args(["--seed", &SEED.to_string()])
            .args(args),
    );
    let card = Proc(child);
    let reader = PcscReader::open(rekam_sim::card::VIRTUAL_READER).unwrap();
    assert!(reader.wait_for(true, Duration::from_secs(15)).unwrap());
    card
}
