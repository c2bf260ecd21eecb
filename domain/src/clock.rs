//! The one time source. Every timestamp the station records comes from a [`Clock`], so tests can
//! pin "today" (ages, NIK dates, KITAP expiry) and nothing reads the system time behind its back.

use std::fmt::Debug;
use time::{Date, OffsetDateTime, UtcOffset};

/// Where the current time comes from.
pub trait Clock: Send + Sync + Debug {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;

    /// Today's date at the station (WIB, UTC+7, unless the clock says otherwise).
    fn today(&self) -> Date {
        self.now().to_offset(station_offset()).date()
    }
}

/// Western Indonesia Time (WIB), the default station offset. Stations in WITA or WIT only shift
/// the boundary of "today" by one or two hours, which does not change an age decision at the
/// counter in practice; the offset becomes configurable with the station settings.
pub fn station_offset() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// How far `clock` is ahead of the operating system's clock, in seconds (negative when
/// behind): what a client that stamps its requests with the system time adds to give the
/// station's time instead.
pub fn offset_from_system(clock: &dyn Clock) -> i64 {
    clock.now().unix_timestamp() - OffsetDateTime::now_utc().unix_timestamp()
}

/// A clock that always says the same instant: for tests and reproducible runs.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// The operating system's clock shifted by a settable amount: days passing in a test or a
/// demo (a mobile team's week away) without waiting for them.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    seconds: std::sync::atomic::AtomicI64,
}

impl ShiftedClock {
    /// The system clock shifted by `by` (negative: in the past).
    pub fn new(by: time::Duration) -> ShiftedClock {
        let c = ShiftedClock::default();
        c.set(by);
        c
    }

    /// Shifts it by `by` from the system clock from now on.
    pub fn set(&self, by: time::Duration) {
        self.seconds
            .store(by.whole_seconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        let by = self.seconds.load(std::sync::atomic::Ordering::SeqCst);
        OffsetDateTime::now_utc() + time::Duration::seconds(by)
    }
}

/// Formats an instant as RFC 3339 in UTC, the one textual timestamp form in the store.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
