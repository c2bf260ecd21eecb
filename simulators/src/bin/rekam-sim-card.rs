//! `rekam-sim-card`: a virtual KTP-el of Rekam's card profile in pcscd's virtual reader
//! (vsmartcard's vpcd). It connects to vpcd as its card: every message on the TCP link is a
//! 2-byte big-endian length and a payload; a 1-byte payload is a reader control (0 power off,
//! 1 power on, 2 reset, 4 send the ATR), anything longer a command APDU answered with the
//! response APDU. Closing the link pulls the card out.
//!
//! It prints `READY` once inserted. `--pull-after N` pulls the card after N command APDUs. A
//! card pcscd does not power up within 3 s is re-seated (see `serve`).

use clap::Parser;
use rekam_sim::card::{CardKind, Chip, Talk};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A virtual card for vpcd.
#[derive(Debug, Parser)]
#[command(name = "rekam-sim-card", version, about)]
struct Args {
    /// Which card
    #[arg(long, value_enum, default_value = "personalised")]
    card: CardKind,
    /// Seed of the synthetic residents
    #[arg(long, default_value_t = 20261122)]
    seed: u64,
    /// Whose card
    #[arg(long, default_value_t = 0)]
    resident: u64,
    /// vpcd's host
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// vpcd's port: 35963 for "Virtual PCD 00 00", 35964 for "00 01"
    #[arg(long, default_value_t = 35963)]
    port: u16,
    /// Refuse extended lengths (the reader must chain and use short APDUs)
    #[arg(long)]
    short_only: bool,
    /// Answer with 61xx and wait for GET RESPONSE, as T=0 cards do
    #[arg(long)]
    t0: bool,
    /// Pull the card out after this many command APDUs
    #[arg(long)]
    pull_after: Option<u32>,
}

fn read_msg(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

fn write_msg(s: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    s.write_all(&len.to_be_bytes())?;
    s.write_all(&payload[..usize::from(len)])?;
    s.flush()
}

/// How long pcscd may take to power a newly inserted card up before the card is re-seated.
const POWER_UP_WITHIN: Duration = Duration::from_secs(3);
/// How long a re-seated card stays out: longer than pcscd's slowest presence poll.
const RESEAT_PAUSE: Duration = Duration::from_secs(4);

fn connect(args: &Args) -> anyhow::Result<TcpStream> {
    for _ in 0..50 {
        if let Ok(s) = TcpStream::connect((args.host.as_str(), args.port)) {
            s.set_nodelay(true)?;
            return Ok(s);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!(
        "vpcd does not answer on {}:{}: is pcscd running with vsmartcard-vpcd?",
        args.host,
        args.port
    )
}

/// How one insertion ended.
enum Insertion {
    /// vpcd closed the link, or the card was pulled (`--pull-after`).
    Over,
    /// pcscd never powered the card up: take it out and put it in again.
    Reseat,
}

/// Serves one insertion. pcscd can miss a card inserted right after another vanished in the
/// middle of a command: its event thread still believes the old card is there, asks for the
/// ATR forever and never powers the new one up. A person would re-seat the card; so does this.
fn serve(link: &mut TcpStream, chip: &mut Chip, args: &Args, commands: &mut u32) -> Insertion {
    // pcscd keeps asking for the ATR every few hundred milliseconds, so the deadline counts
    // from the insertion; reads time out so that silence counts too.
    let inserted = std::time::Instant::now();
    let _ = link.set_read_timeout(Some(Duration::from_millis(500)));
    let mut powered = false;
    loop {
        if !powered && inserted.elapsed() > POWER_UP_WITHIN {
            return Insertion::Reseat;
        }
        let msg = match read_msg(link) {
            Ok(m) => m,
            Err(e)
                if !powered && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                continue;
            }
            Err(_) => return Insertion::Over, // vpcd went away
        };
        let reply = match msg.as_slice() {
            [0] | [2] => {
                chip.reset();
                None
            }
            [1] => {
                if !powered {
                    powered = true;
                    let _ = link.set_read_timeout(None);
                }
                None
            }
            [4] => Some(chip.atr()),
            [_] => None,
            apdu => {
                *commands += 1;
                if args.pull_after.is_some_and(|n| *commands > n) {
                    return Insertion::Over; // pulled out mid-conversation
                }
                Some(chip.process(apdu))
            }
        };
        if let Some(r) = reply
            && write_msg(link, &r).is_err()
        {
            return Insertion::Over;
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let talk = Talk {
        short_only: args.short_only,
        t0: args.t0,
    };
    let mut chip = Chip::for_resident(args.card, args.seed, args.resident, talk)?;
    let mut link = connect(&args)?;
    println!("READY");
    let mut commands = 0u32;
    loop {
        match serve(&mut link, &mut chip, &args, &mut commands) {
            Insertion::Over => return Ok(()),
            Insertion::Reseat => {
                drop(link);
                chip.reset();
                std::thread::sleep(RESEAT_PAUSE);
                link = connect(&args)?;
            }
        }
    }
}
