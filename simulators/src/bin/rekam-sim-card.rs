//! `rekam-sim-card`: a virtual KTP-el of Rekam's card profile in pcscd's virtual reader
//! (vsmartcard's vpcd). It connects to vpcd as its card: every message on the TCP link is a
//! 2-byte big-endian length and a payload; a 1-byte payload is a reader control (0 power off,
//! 1 power on, 2 reset, 4 send the ATR), anything longer a command APDU answered with the
//! response APDU. Closing the link pulls the card out.
//!
//! It prints `READY` once inserted. `--pull-after N` pulls the card after N command APDUs.

use anyhow::Context;
use clap::Parser;
use rekam_sim::card::{CardKind, Chip, Talk};
use std::io::{Read, Write};
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

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let talk = Talk {
        short_only: args.short_only,
        t0: args.t0,
    };
    let mut chip = Chip::for_resident(args.card, args.seed, args.resident, talk)?;
    let mut link = None;
    for _ in 0..50 {
        match TcpStream::connect((args.host.as_str(), args.port)) {
            Ok(s) => {
                link = Some(s);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let mut link = link.with_context(|| {
        format!(
            "vpcd does not answer on {}:{}: is pcscd running with vsmartcard-vpcd?",
            args.host, args.port
        )
    })?;
    link.set_nodelay(true)?;
    println!("READY");
    let mut commands = 0u32;
    loop {
        let msg = match read_msg(&mut link) {
            Ok(m) => m,
            Err(_) => return Ok(()), // vpcd went away
        };
        match msg.as_slice() {
            [0] | [2] => chip.reset(),
            [1] => {}
            [4] => write_msg(&mut link, &chip.atr())?,
            [_] => {}
            apdu => {
                commands += 1;
                if args.pull_after.is_some_and(|n| commands > n) {
                    return Ok(()); // pulled out mid-conversation
                }
                write_msg(&mut link, &chip.process(apdu))?;
            }
        }
    }
}
