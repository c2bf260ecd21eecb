//! `rekam-sim-pad`: a signature pad on a pseudo-terminal, speaking
//! `drivers/PROTOCOL-signature-pad.md`, that plays a synthetic resident's signing.
//!
//! It prints `READY <path>` once the pty exists (and links it at `--link`, if given); a driver
//! opens that path as it would `/dev/ttyACM0`. Faults for tests: line noise, frames in small
//! pieces, damaged frames, a hang-up mid-signature, a resident who never presses OK, one who
//! clears first.

use anyhow::Context;
use clap::Parser;
use rekam_drivers::signature_pad::frame::{Button, Frame, FrameDecoder, PadInfo, PenSample};
use serialport::{SerialPort, TTYPort};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A simulated signature pad on a pty.
#[derive(Debug, Parser)]
#[command(name = "rekam-sim-pad", version, about)]
struct Args {
    /// Seed of the synthetic residents
    #[arg(long, default_value_t = 20261122)]
    seed: u64,
    /// Which resident signs (index within the seed)
    #[arg(long, default_value_t = 0)]
    resident: u64,
    /// Which of their signings (from 0)
    #[arg(long, default_value_t = 0)]
    signing: u64,
    /// Also make the pty reachable at this path (a symlink)
    #[arg(long)]
    link: Option<PathBuf>,
    /// Play this many times faster than real time (0: as fast as possible)
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Put random noise bytes between frames
    #[arg(long)]
    garbage: bool,
    /// Write frames in pieces of 1-3 bytes
    #[arg(long)]
    chunked: bool,
    /// Damage every Nth pen frame (one flipped bit)
    #[arg(long)]
    corrupt_every: Option<u32>,
    /// Hang up (exit) after this many pen frames
    #[arg(long)]
    hang_up_after: Option<u32>,
    /// Never press OK
    #[arg(long)]
    never_done: bool,
    /// Press clear after half the signing, then sign again in full
    #[arg(long)]
    clear_first: bool,
    /// Exit after one capture
    #[arg(long)]
    once: bool,
}

struct Line {
    port: TTYPort,
    args: Args,
    noise: u64,
}

impl Line {
    /// A small xorshift stream: enough for noise, reproducible per run.
    fn rand(&mut self) -> u64 {
        self.noise ^= self.noise << 13;
        self.noise ^= self.noise >> 7;
        self.noise ^= self.noise << 17;
        self.noise
    }

    fn send(&mut self, frame: &Frame, damage: bool) -> std::io::Result<()> {
        let mut bytes = frame.encode();
        if damage {
            let i = 4 + (self.rand() as usize % (bytes.len() - 6).max(1));
            bytes[i] ^= 0x10;
        }
        if self.args.garbage {
            let n = (self.rand() % 4) as usize;
            let noise: Vec<u8> = (0..n).map(|_| self.rand() as u8).collect();
            self.port.write_all(&noise)?;
        }
        if self.args.chunked {
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let n = (1 + self.rand() as usize % 3).min(rest.len());
                self.port.write_all(&rest[..n])?;
                self.port.flush()?;
                rest = &rest[n..];
            }
            Ok(())
        } else {
            self.port.write_all(&bytes)?;
            self.port.flush()
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (master, slave) = TTYPort::pair().context("creating a pseudo-terminal")?;
    let path = slave.name().context("the pty has no name")?;
    drop(slave);
    if let Some(link) = &args.link {
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&path, link)
            .with_context(|| format!("linking {} to {path}", link.display()))?;
    }
    println!("READY {path}");
    std::io::stdout().flush()?;

    let samples = rekam_sim::pad_samples(args.seed, args.resident, args.signing);
    let info = PadInfo {
        version: 1,
        max_x: rekam_synth::signature::PAD_W,
        max_y: rekam_synth::signature::PAD_H,
        max_pressure: rekam_synth::signature::PRESSURE_MAX,
        rate_hz: rekam_synth::signature::SAMPLE_HZ as u16,
        model: "Rekam SimPad".into(),
        serial: format!("SIM-{:04}", args.resident),
        firmware: env!("CARGO_PKG_VERSION").into(),
    };
    let mut line = Line {
        port: master,
        noise: 0x9E37_79B9_7F4A_7C15 ^ args.seed ^ (args.resident << 20),
        args,
    };
    line.port.set_timeout(Duration::from_millis(50))?;
    let mut decoder = FrameDecoder::new();
    let mut buf = [0u8; 256];
    loop {
        match line.port.read(&mut buf) {
            Ok(0) => std::thread::sleep(Duration::from_millis(20)),
            Ok(n) => decoder.push(&buf[..n]),
            // No driver has the pty open yet (EIO), or nothing was sent: wait.
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
        while let Some(frame) = decoder.next_frame() {
            let answered = match frame {
                Frame::Hello => line
                    .send(&Frame::Info(info.clone()), false)
                    .map_err(Into::into),
                Frame::Stop => line.send(&Frame::Stopped, false).map_err(Into::into),
                Frame::Start => play(&mut line, &samples),
                _ => Ok(()),
            };
            if let Err(e) = answered {
                // The driver went away while the pad answered (its process killed, the port
                // closed): like a pad, drop the answer and wait for the next host. The crash
                // campaign kills the station mid-signature; a pad that died then failed every
                // later trial with "Signature pad not connected".
                eprintln!("the driver went away: {e}; waiting for the next one");
                decoder = FrameDecoder::new();
                break;
            }
            if matches!(frame, Frame::Start) && line.args.once {
                // Give the driver time to read the last frames before the pty closes.
                std::thread::sleep(Duration::from_millis(300));
                return Ok(());
            }
        }
    }
}

/// Plays one capture: the samples (twice, with a clear between, if asked), then OK.
fn play(line: &mut Line, samples: &[PenSample]) -> anyhow::Result<()> {
    let started = Instant::now();
    let pace = |t_ms: u32, speed: f64| {
        if speed > 0.0 {
            let due = Duration::from_secs_f64(f64::from(t_ms) / 1000.0 / speed);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    };
    let mut sent = 0u32;
    let mut t_offset = 0;
    if line.args.clear_first {
        let half = &samples[..samples.len() / 2];
        for s in half {
            pace(s.t_ms, line.args.speed);
            line.send(&Frame::Pen(*s), false)?;
        }
        t_offset = half.last().map_or(0, |s| s.t_ms) + 300;
        line.send(
            &Frame::Button {
                t_ms: t_offset,
                button: Button::Clear,
            },
            false,
        )?;
    }
    for s in samples {
        let s = PenSample {
            t_ms: s.t_ms + t_offset,
            ..*s
        };
        pace(s.t_ms, line.args.speed);
        sent += 1;
        let damage = line
            .args
            .corrupt_every
            .is_some_and(|n| n > 0 && sent.is_multiple_of(n));
        line.send(&Frame::Pen(s), damage)?;
        if line.args.hang_up_after == Some(sent) {
            // Like a cable pulled out: the process, and with it the pty, goes away.
            std::process::exit(0);
        }
    }
    if !line.args.never_done {
        let t = samples.last().map_or(0, |s| s.t_ms) + t_offset + 400;
        line.send(
            &Frame::Button {
                t_ms: t,
                button: Button::Ok,
            },
            false,
        )?;
    }
    Ok(())
}
