//! `rekam card-token`: the card secrets into a PKCS#11 token, once, on the Dinas's machine or a
//! counter's: the SAM master (every counter reads cards at the handover with it) and the
//! document signer's key (the Dinas's token alone). The files they came from are destroyed
//! afterwards by whoever holds them; from then on only the token computes with the keys.

use crate::Ctx;
use crate::output::Exit;
use rekam_drivers::card::token::{self, CardToken, TokenConfig};
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Put the SAM master and/or the document signer's key into the token LABEL (made with the
    /// security officer's PIN from REKAM_CARD_SO_PIN when there is none; the user PIN from
    /// REKAM_CARD_PIN)
    Import {
        #[command(flatten)]
        token: Token,
        /// The SAM master key file (64 hex digits)
        #[arg(long, value_name = "FILE")]
        sam: Option<PathBuf>,
        /// The document signer's private key (Ed25519, PKCS#8 PEM)
        #[arg(long, value_name = "FILE")]
        ds_key: Option<PathBuf>,
    },
    /// Log in to the token and say which card secrets it holds
    Status {
        #[command(flatten)]
        token: Token,
    },
}

/// Which token.
#[derive(Debug, clap::Args)]
pub struct Token {
    /// The token's label
    #[arg(long, env = "REKAM_CARD_TOKEN")]
    label: String,
    /// The vendor's PKCS#11 module
    #[arg(long, env = "REKAM_CARD_PKCS11", default_value = token::SOFTHSM2_MODULE)]
    module: PathBuf,
}

impl Token {
    fn config(&self) -> anyhow::Result<TokenConfig> {
        Ok(TokenConfig {
            module: self.module.clone(),
            label: self.label.clone(),
            pin: super::secret_line("REKAM_CARD_PIN")?,
        })
    }
}

fn driver(e: rekam_drivers::DriverError) -> anyhow::Error {
    rekam::Error::from(rekam::workflow::WorkflowError::Device(e)).into()
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    let lang = ctx.lang();
    match command {
        Command::Import { token, sam, ds_key } => {
            if sam.is_none() && ds_key.is_none() {
                anyhow::bail!("nothing to import: give --sam, --ds-key or both");
            }
            let read = |p: &PathBuf| -> anyhow::Result<zeroize::Zeroizing<String>> {
                Ok(zeroize::Zeroizing::new(
                    std::fs::read_to_string(p)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
                ))
            };
            let sam_text = sam.as_ref().map(read).transpose()?;
            let ds_text = ds_key.as_ref().map(read).transpose()?;
            let cfg = token.config()?;
            let so_pin = super::secret_line("REKAM_CARD_SO_PIN")?;
            let done = token::import(
                &cfg,
                &so_pin,
                sam_text.as_deref().map(|s| s.as_str()),
                ds_text.as_deref().map(|s| s.as_str()),
            )
            .map_err(driver)?;
            let mut said = vec![];
            if done.initialised {
                said.push(lang.pick("token dibuat", "token made"));
            }
            if done.sam {
                said.push(lang.pick("master SAM disimpan", "SAM master stored"));
            }
            if done.signer {
                said.push(lang.pick(
                    "kunci penanda tangan dokumen disimpan",
                    "document signer stored",
                ));
            }
            ctx.out.message(&format!(
                "{} {}: {}. {}",
                lang.pick("Token", "Token"),
                cfg.label,
                said.join(", "),
                lang.pick(
                    "Musnahkan berkas kuncinya: kini hanya token yang memegangnya.",
                    "Destroy the key files: only the token holds the keys now."
                )
            ));
        }
        Command::Status { token } => {
            let cfg = token.config()?;
            let opened = CardToken::open(&cfg).map_err(driver)?;
            ctx.out.message(&format!(
                "{} {}: {}",
                lang.pick("Token", "Token"),
                cfg.label,
                if opened.has_signer() {
                    lang.pick(
                        "master SAM dan penanda tangan dokumen (token Dinas)",
                        "SAM master and document signer (a Dinas's token)",
                    )
                } else {
                    lang.pick("master SAM (token loket)", "SAM master (a counter's token)")
                }
            ));
        }
    }
    Ok(Exit::Ok)
}
