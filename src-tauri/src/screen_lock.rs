//! The operating system's lock screen locks the counter too: a mobile team's laptop locked by
//! its user, by its idle timer or by closing its lid closes the store (on a station with key
//! slots) exactly as the app's own lock button does, so a laptop taken while locked gives
//! nothing away.
//!
//! Heard on D-Bus: the desktop's screen saver turning on (`org.freedesktop.ScreenSaver` and
//! GNOME's `org.gnome.ScreenSaver`, `ActiveChanged(true)`) on the session bus, and logind's
//! `Lock` of a session and `PrepareForSleep(true)` (lid closed, suspend) on the system bus. A
//! `Lock` of any session locks this counter: locking more often than needed is safe, less is
//! not. Where a bus is missing (no desktop session, a container), the app says so in its log
//! and keeps its own idle lock.

use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver as _;
use dbus::message::MatchRule;
use std::sync::Arc;
use std::time::Duration;

/// What locked the screen, for the log.
pub type OnLock = Arc<dyn Fn(&'static str) + Send + Sync>;

/// The signals that lock the counter: interface, member, and whether they carry a boolean that
/// must be true.
const SIGNALS: [(&str, &str, bool); 4] = [
    ("org.freedesktop.ScreenSaver", "ActiveChanged", true),
    ("org.gnome.ScreenSaver", "ActiveChanged", true),
    ("org.freedesktop.login1.Session", "Lock", false),
    ("org.freedesktop.login1.Manager", "PrepareForSleep", true),
];

/// Subscribes `conn` to every signal that locks the counter; `on_lock` is called (from the
/// thread that processes `conn`) with the signal's name.
pub fn subscribe(conn: &Connection, on_lock: &OnLock) -> Result<(), dbus::Error> {
    for (interface, member, needs_true) in SIGNALS {
        let on_lock = on_lock.clone();
        let rule = MatchRule::new_signal(interface, member);
        conn.add_match_no_cb(&rule.match_str())?;
        conn.start_receive(
            rule,
            Box::new(move |msg, _| {
                if !needs_true || msg.read1::<bool>().unwrap_or(false) {
                    on_lock(member);
                }
                true
            }),
        );
    }
    Ok(())
}

/// Watches the session bus and the system bus on threads of their own for as long as the app
/// runs.
pub fn spawn(on_lock: OnLock) {
    type Connect = fn() -> Result<Connection, dbus::Error>;
    let buses: [(&str, Connect); 2] = [
        ("session", Connection::new_session),
        ("system", Connection::new_system),
    ];
    for (name, connect) in buses {
        let on_lock = on_lock.clone();
        std::thread::spawn(move || {
            let conn = match connect().and_then(|c| subscribe(&c, &on_lock).map(|()| c)) {
                Ok(c) => c,
                Err(e) => {
                    tracing::info!(
                        bus = name,
                        error = %e,
                        "the operating system's lock screen is not heard on this bus; the app's own idle lock stands"
                    );
                    return;
                }
            };
            loop {
                if let Err(e) = conn.process(Duration::from_secs(5)) {
                    tracing::warn!(bus = name, error = %e, "lost the bus: the lock screen is no longer heard");
                    return;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::Mutex;

    /// A private D-Bus daemon, its address; killed when the test ends.
    struct Bus(std::process::Child, String);

    impl Drop for Bus {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn bus(dir: &std::path::Path) -> Bus {
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<busconfig><type>session</type><listen>unix:dir={}</listen>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>",
                dir.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian: dbus-daemon, scripts/setup-system)");
        let mut address = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        Bus(child, address.trim().to_owned())
    }

    fn emit(bus: &Bus, path: &str, signal: &str, args: &[&str]) {
        let status = Command::new("dbus-send")
            .arg(format!("--bus={}", bus.1))
            .args(["--type=signal", path, signal])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn the_screen_saver_logind_and_a_suspend_lock_the_counter_and_nothing_else_does() {
        let dir = tempfile::tempdir().unwrap();
        let bus = bus(dir.path());
        let heard = Arc::new(Mutex::new(Vec::new()));
        let record = heard.clone();
        let on_lock: OnLock = Arc::new(move |what| record.lock().unwrap().push(what));
        let conn = Connection::new_address(&bus.1).unwrap();
        subscribe(&conn, &on_lock).unwrap();

        let saver = "/org/freedesktop/ScreenSaver";
        emit(
            &bus,
            saver,
            "org.freedesktop.ScreenSaver.ActiveChanged",
            &["boolean:false"],
        );
        emit(
            &bus,
            saver,
            "org.freedesktop.ScreenSaver.ActiveChanged",
            &["boolean:true"],
        );
        emit(
            &bus,
            "/org/gnome/ScreenSaver",
            "org.gnome.ScreenSaver.ActiveChanged",
            &["boolean:true"],
        );
        emit(
            &bus,
            "/org/freedesktop/login1/session/_32",
            "org.freedesktop.login1.Session.Lock",
            &[],
        );
        emit(
            &bus,
            "/org/freedesktop/login1/session/_32",
            "org.freedesktop.login1.Session.Unlock",
            &[],
        );
        emit(
            &bus,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager.PrepareForSleep",
            &["boolean:false"],
        );
        emit(
            &bus,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager.PrepareForSleep",
            &["boolean:true"],
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while heard.lock().unwrap().len() < 4 && std::time::Instant::now() < deadline {
            conn.process(Duration::from_millis(200)).unwrap();
        }
        // A little longer: nothing else may arrive.
        conn.process(Duration::from_millis(300)).unwrap();
        assert_eq!(
            *heard.lock().unwrap(),
            ["ActiveChanged", "ActiveChanged", "Lock", "PrepareForSleep"]
        );
    }
}
