//! What a card sends, on arbitrary bytes: response APDUs, the FCI and FCP of the profile, the
//! security object, ATR capabilities; and command APDUs as the virtual card reads them. A
//! command that parses must encode back to the same bytes in its own form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rekam_drivers::card::apdu::{Command, Response, capabilities};
use rekam_drivers::card::profile::{Fci, SecurityObject, parse_fcp};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Response::parse(data) {
        assert_eq!(r.encode(), data);
    }
    if let Ok(c) = Command::parse(data) {
        let extended = data.len() > 5 && data[4] == 0;
        assert_eq!(c.encode(extended).expect("a parsed command encodes"), data);
    }
    if let Some(fci) = Fci::parse(data) {
        assert_eq!(Fci::parse(&fci.encode()), Some(fci));
    }
    let _ = parse_fcp(data);
    let _ = SecurityObject::parse(data);
    let _ = capabilities(data);
});
