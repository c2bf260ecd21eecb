//! Opening an encrypted SQLite database (SQLCipher) with a raw 256-bit key: the station's
//! store, the reference data center and the kecamatan server's embedded store all open theirs
//! here, and each then applies its own pragmas and checks.
//!
//! SQLite marks itself initialised before it runs SQLCipher's part of the set-up
//! (`SQLITE_EXTRA_INIT`), so a thread that keys its first connection while another thread is
//! still initialising gets `PRAGMA key` refused ("sqlcipher not initialized" on stderr). CI
//! met it with three tests opening their first databases at the same moment. [`open`] waits,
//! once per process, until a keyed connection works before it opens anything.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Once;
use std::time::Duration;
use zeroize::{Zeroize, Zeroizing};

/// Opens `path` with `flags` and applies the raw `key`. Nothing is read yet: a wrong key shows
/// at the first read (`NotADatabase`), which the caller makes.
pub fn open(path: &Path, flags: OpenFlags, key: &[u8; 32]) -> rusqlite::Result<Connection> {
    ready();
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch(&key_pragma(key))?;
    Ok(conn)
}

/// The `PRAGMA key` statement of SQLCipher's raw-key form; wiped when dropped.
pub fn key_pragma(key: &[u8; 32]) -> Zeroizing<String> {
    let mut hex = hex::encode(key);
    let stmt = Zeroizing::new(format!("PRAGMA key = \"x'{hex}'\";"));
    hex.zeroize();
    stmt
}

/// Returns once SQLCipher's global set-up has finished (at once after the first call).
pub fn ready() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        // A private temporary database (the empty name): keying it goes through the codec as
        // a file's would. The first try normally works, its own open having run the set-up;
        // it fails only while another thread, outside this function, is still running it.
        for _ in 0..2000 {
            let keyed = Connection::open("").and_then(|c| c.execute_batch("PRAGMA key = 'ready';"));
            if keyed.is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_threads_open_keyed_databases_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let key = [7u8; 32];
        std::thread::scope(|s| {
            for i in 0..8 {
                let path = dir.path().join(format!("{i}.db"));
                s.spawn(move || {
                    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
                    let conn = open(&path, flags, &key).unwrap();
                    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
                        .unwrap();
                });
            }
        });
        // Encrypted: the right key reads it, no key does not.
        let path = dir.path().join("0.db");
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE;
        let conn = open(&path, flags, &key).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let plain = Connection::open_with_flags(&path, flags).unwrap();
        assert!(
            plain
                .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                .is_err()
        );
        assert!(
            !std::fs::read(&path)
                .unwrap()
                .starts_with(b"SQLite format 3")
        );
    }
}
