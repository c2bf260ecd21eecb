//! `rekam clarify`: a supervisor records how a duplicate the data center found was clarified
//! with the resident; the record then leaves the backlog.

use crate::Ctx;
use crate::output::Exit;
use rekam::store::Clarified;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The packet id of the DUPLICATE_RECORD (from `rekam backlog`)
    packet: String,
    /// recorded-before (the resident had recorded: no card from this recording) or disputed
    /// (the resident denies it: referred to the Dinas)
    #[arg(long, value_parser = parse_outcome)]
    outcome: Clarified,
    /// The statement's number or what the resident said, kept with the outcome
    #[arg(long)]
    note: String,
}

fn parse_outcome(s: &str) -> Result<Clarified, String> {
    Clarified::parse(s).ok_or_else(|| "recorded-before or disputed".into())
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let mut station = ctx.open()?;
    rekam::workflow::clarification::clarify(
        &mut station,
        &args.packet,
        args.outcome,
        &args.note,
        None,
    )?;
    let said = match args.outcome {
        Clarified::RecordedBefore => ctx.lang().pick(
            "dicatat: penduduk sudah pernah merekam; rekaman ini tidak dipakai, kartu dilayani dari rekaman pertama",
            "recorded: the resident had recorded before; this recording is not used, the card comes from the first one",
        ),
        Clarified::Disputed => ctx.lang().pick(
            "dicatat: penduduk menyangkal; kasus diteruskan ke Dinas dengan catatannya",
            "recorded: the resident denies it; the case goes to the Dinas with the note",
        ),
    };
    ctx.out.message(&format!("{} {said}", args.packet));
    Ok(Exit::Ok)
}
