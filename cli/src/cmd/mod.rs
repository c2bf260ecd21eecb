//! One module per subcommand: its arguments and its `run`.

pub mod audit;
pub mod backlog;
pub mod backup;
pub mod calibrate;
pub mod card_token;
pub mod check;
pub mod clarify;
#[cfg(feature = "demo")]
pub mod demo;
pub mod doctor;
pub mod export;
pub mod hub;
pub mod init;
pub mod keys;
pub mod nik;
pub mod operator;
pub mod population;
pub mod purge;
pub mod receipts;
pub mod recover;
pub mod region;
pub mod register;
pub mod reissues;
pub mod report;
pub mod restore;
pub mod status;
pub mod sync;

/// A secret from the environment variable `var`, else the first line of standard input;
/// wiped from memory when dropped.
pub(crate) fn secret_line(var: &str) -> std::io::Result<zeroize::Zeroizing<String>> {
    if let Ok(v) = std::env::var(var) {
        return Ok(zeroize::Zeroizing::new(v));
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().read_line(&mut line)?;
    let end = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(end);
    Ok(line)
}

/// A port range FIRST-LAST (or one port).
pub(crate) fn parse_ports(text: &str) -> Result<(u16, u16), String> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
        (Ok(a), Ok(b)) if a <= b => Ok((a, b)),
        _ => Err(format!("{text:?} is not FIRST-LAST, for example 4501-4600")),
    }
}
