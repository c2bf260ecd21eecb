//! A generated set on disk: every resident's biodata and captures, and a manifest of every file
//! with its SHA-256, written last so an interrupted run is recognisable.
//!
//! ```text
//! DIR/manifest.json                     seed, date, generator, files and hashes
//! DIR/residents.json                    the residents (the population database), with ground truth
//! DIR/R0000/finger/02-right_index-1.png flat impressions (1..K good, then `-poor`)
//! DIR/R0000/slap/left_four.png          4-4-2 slaps (placements in residents.json)
//! DIR/R0000/iris/right-1.png            iris captures (circles in residents.json)
//! DIR/R0000/face/good.png               portrait (and the deliberate faults)
//! DIR/R0000/signature-1.json            pen events of one signing
//! ```

use crate::face::{FaceShot, portrait, to_png};
use crate::finger::impression::{Capture, Quality, impression};
use crate::finger::slap::{Placement, Slap, slap};
use crate::finger::{FingerPosition, MasterPrint, PatternClass, SingularPoint, master_print};
use crate::iris::{Eye, IrisCapture, IrisTexture, IrisTruth, iris_image};
use crate::resident::{RegionPool, Resident, resident};
use crate::seed::Seed;
use crate::signature::{PenEvent, SignatureStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use time::Date;

/// Version of the set's layout and of the generator's output for a given seed. Bump it when a
/// change alters the bytes generated for a seed.
pub const FORMAT: u32 = 1;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetOptions {
    /// How many residents.
    pub residents: u64,
    /// The master seed.
    pub seed: u64,
    /// The date ages and expiries are computed for.
    pub as_of: Date,
    /// Good flat impressions per finger.
    pub impressions: u32,
    /// Also one poor impression per finger (for quality gates and retries).
    pub poor: bool,
    /// Also the 4-4-2 slaps.
    pub slaps: bool,
    /// Also the deliberate portrait faults.
    pub face_faults: bool,
    /// Captures per eye.
    pub iris_captures: u32,
    /// Signings per resident.
    pub signings: u32,
}

impl SetOptions {
    /// One capture of each kind (one flat per finger, the slaps, one capture per eye, one
    /// portrait, one signing): a resident's full biometrics at the least cost.
    pub fn minimal(residents: u64, seed: u64, as_of: Date) -> Self {
        SetOptions {
            residents,
            seed,
            as_of,
            impressions: 1,
            poor: false,
            slaps: true,
            face_faults: false,
            iris_captures: 1,
            signings: 1,
        }
    }

    /// Everything, for `residents` residents of `seed`.
    pub fn full(residents: u64, seed: u64, as_of: Date) -> Self {
        SetOptions {
            residents,
            seed,
            as_of,
            impressions: 2,
            poor: true,
            slaps: true,
            face_faults: true,
            iris_captures: 2,
            signings: 2,
        }
    }
}

/// Ground truth of one finger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FingerTruth {
    /// Which finger.
    pub position: FingerPosition,
    /// Its class.
    pub class: PatternClass,
    /// Cores, master coordinates.
    pub cores: Vec<SingularPoint>,
    /// Deltas, master coordinates.
    pub deltas: Vec<SingularPoint>,
    /// The captures written, in file order.
    pub captures: Vec<Capture>,
}

/// A resident with the ground truth of their captures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResidentRecord {
    /// The resident.
    #[serde(flatten)]
    pub resident: Resident,
    /// Fingers.
    pub fingers: Vec<FingerTruth>,
    /// Where each finger lies in each slap.
    pub slaps: Vec<(Slap, Vec<Placement>)>,
    /// Iris captures, by eye.
    pub irises: Vec<(Eye, Vec<IrisTruth>)>,
}

/// One written file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the set.
    pub path: String,
    /// Size.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The set's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Generator and version.
    pub generator: String,
    /// [`FORMAT`].
    pub format: u32,
    /// What was generated (seed, date, counts): enough to generate the same bytes again.
    pub options: SetOptions,
    /// Every file but the manifest, in path order.
    pub files: Vec<FileEntry>,
}

/// Errors writing a set.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// The output directory holds files already.
    #[error("{0} is not empty: choose a new directory, nothing was written")]
    NotEmpty(PathBuf),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The region data could not be loaded.
    #[error(transparent)]
    Region(#[from] rekam_domain::region::RegionError),
}

/// Files of a set: path inside the set, and bytes.
pub type Files = Vec<(String, Vec<u8>)>;

/// One resident, generated in memory: the record and the files.
#[derive(Debug)]
pub struct Generated {
    /// Resident and ground truth.
    pub record: ResidentRecord,
    /// Relative path and bytes of each file.
    pub files: Files,
}

/// The ten master prints of resident `index` of `seed`.
pub fn masters(seed: Seed, index: u64) -> Vec<MasterPrint> {
    let fseed = seed.child_n("resident", index).child("finger");
    FingerPosition::ALL
        .par_iter()
        .map(|p| master_print(fseed.child_n("master", p.code() as u64), *p))
        .collect()
}

/// Generates everything of resident `index`.
pub fn generate_resident(opts: &SetOptions, pool: &RegionPool, index: u64) -> Generated {
    let seed = Seed::from_u64(opts.seed);
    let rseed = seed.child_n("resident", index);
    let res = resident(seed, index, pool, opts.as_of);
    let dir = res.id.clone();
    let mut files = Vec::new();
    let missing: Vec<FingerPosition> = res.missing_fingers.iter().map(|m| m.position).collect();

    let masters = masters(seed, index);
    // Everything after the masters is independent: run it as one work-stealing batch so both
    // cores stay busy (collect keeps the order, so the bytes do not depend on scheduling).
    let ((flats, slaps), (irises, (faces, signatures))) = rayon::join(
        || {
            rayon::join(
                || flat_impressions(opts, &dir, rseed, &masters, &missing),
                || slaps_of(opts, rseed, &masters, &missing),
            )
        },
        || {
            rayon::join(
                || irises_of(opts, &dir, rseed),
                || {
                    rayon::join(
                        || portraits(opts, &dir, rseed, res.birth_date.year()),
                        || signings(opts, &dir, rseed),
                    )
                },
            )
        },
    );
    let mut fingers = Vec::new();
    for (truth, out) in flats {
        fingers.push(truth);
        files.extend(out);
    }
    let mut slap_truth = Vec::new();
    for (s, placements, png) in slaps {
        files.push((format!("{dir}/slap/{}.png", s.as_str()), png));
        slap_truth.push((s, placements));
    }
    let mut iris_truth = Vec::new();
    for (eye, truths, out) in irises {
        files.extend(out);
        iris_truth.push((eye, truths));
    }
    files.extend(faces);
    files.extend(signatures);

    Generated {
        record: ResidentRecord {
            resident: res,
            fingers,
            slaps: slap_truth,
            irises: iris_truth,
        },
        files,
    }
}

fn flat_impressions(
    opts: &SetOptions,
    dir: &str,
    rseed: Seed,
    masters: &[MasterPrint],
    missing: &[FingerPosition],
) -> Vec<(FingerTruth, Files)> {
    let fseed = rseed.child("finger");
    masters
        .par_iter()
        .map(|m| {
            let mut caps = Vec::new();
            let mut out = Vec::new();
            if !missing.contains(&m.position) {
                let total = opts.impressions + u32::from(opts.poor);
                for k in 0..total {
                    let poor = k == opts.impressions;
                    let cseed =
                        fseed.child_n("capture", u64::from(m.position.code()) * 100 + u64::from(k));
                    let q = if poor { Quality::POOR } else { Quality::GOOD };
                    let cap = Capture::draw(&mut cseed.rng(), q);
                    let img = impression(m, &cap, cseed.child("sensor"));
                    let (code, name) = (m.position.code(), m.position.as_str());
                    let file = if poor {
                        format!("{dir}/finger/{code:02}-{name}-poor.png")
                    } else {
                        format!("{dir}/finger/{code:02}-{name}-{}.png", k + 1)
                    };
                    out.push((file, img.to_png()));
                    caps.push(cap);
                }
            }
            let truth = FingerTruth {
                position: m.position,
                class: m.class,
                cores: m.cores.clone(),
                deltas: m.deltas.clone(),
                captures: caps,
            };
            (truth, out)
        })
        .collect()
}

fn slaps_of(
    opts: &SetOptions,
    rseed: Seed,
    masters: &[MasterPrint],
    missing: &[FingerPosition],
) -> Vec<(Slap, Vec<Placement>, Vec<u8>)> {
    let sseed = rseed.child("slap");
    let sequence: &[Slap] = if opts.slaps { &Slap::SEQUENCE } else { &[] };
    sequence
        .par_iter()
        .map(|s| {
            let cseed = sseed.child(s.as_str());
            let cap = Capture::draw(&mut cseed.rng(), Quality::GOOD);
            let (img, placements) = slap(*s, masters, missing, &cap, cseed.child("sensor"));
            (*s, placements, img.to_png())
        })
        .collect()
}

fn irises_of(opts: &SetOptions, dir: &str, rseed: Seed) -> Vec<(Eye, Vec<IrisTruth>, Files)> {
    [Eye::Right, Eye::Left]
        .par_iter()
        .map(|eye| {
            let eseed = rseed.child("iris").child(eye.as_str());
            let texture = IrisTexture::new(eseed.child("texture"));
            let mut truths = Vec::new();
            let mut out = Vec::new();
            for k in 0..opts.iris_captures {
                let cseed = eseed.child_n("capture", u64::from(k));
                let cap = IrisCapture::draw(&mut cseed.rng(), 0.85);
                let (img, truth) = iris_image(&texture, &cap, cseed.child("sensor"));
                out.push((
                    format!("{dir}/iris/{}-{}.png", eye.as_str(), k + 1),
                    img.to_png(),
                ));
                truths.push(truth);
            }
            (*eye, truths, out)
        })
        .collect()
}

fn portraits(opts: &SetOptions, dir: &str, rseed: Seed, birth_year: i32) -> Files {
    let shots: &[FaceShot] = if opts.face_faults {
        &FaceShot::ALL
    } else {
        &FaceShot::ALL[..1]
    };
    shots
        .par_iter()
        .map(|shot| {
            let img = portrait(birth_year, *shot, rseed.child("face").child(shot.as_str()));
            (format!("{dir}/face/{}.png", shot.as_str()), to_png(&img))
        })
        .collect()
}

fn signings(opts: &SetOptions, dir: &str, rseed: Seed) -> Files {
    (0..opts.signings)
        .map(|k| {
            let json = serde_json::to_vec(&signing_of(rseed, u64::from(k))).unwrap_or_default();
            (format!("{dir}/signature-{}.json", k + 1), json)
        })
        .collect()
}

fn signing_of(rseed: Seed, k: u64) -> Vec<PenEvent> {
    let sseed = rseed.child("signature");
    SignatureStyle::new(sseed).sign(sseed.child_n("signing", k))
}

/// The `k`-th signing (from 0) of resident `index` of `seed`: the pen events a set writes to
/// `signature-{k+1}.json`, and that the pad simulator plays.
pub fn signing(seed: u64, index: u64, k: u64) -> Vec<PenEvent> {
    signing_of(Seed::from_u64(seed).child_n("resident", index), k)
}

/// Writes a whole set into `out`, which must be missing or empty. `progress` is told after each
/// resident (done, total).
pub fn write_set(
    out: &Path,
    opts: &SetOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<Manifest, SetError> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| io(out, e))?;
        if entries.next().is_some() {
            return Err(SetError::NotEmpty(out.to_owned()));
        }
    }
    let pool = RegionPool::load()?;
    let mut files: Vec<FileEntry> = Vec::new();
    let mut records = Vec::new();
    for index in 0..opts.residents {
        let g = generate_resident(opts, &pool, index);
        for (path, bytes) in &g.files {
            files.push(write(out, path, bytes)?);
        }
        records.push(g.record);
        progress(index + 1, opts.residents);
    }
    let residents_json = serde_json::to_vec_pretty(&records).unwrap_or_default();
    files.push(write(out, "residents.json", &residents_json)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        generator: format!("rekam-synth {}", env!("CARGO_PKG_VERSION")),
        format: FORMAT,
        options: opts.clone(),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    write(out, "manifest.json", &json)?;
    Ok(manifest)
}

fn write(root: &Path, rel: &str, bytes: &[u8]) -> Result<FileEntry, SetError> {
    let path = root.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
    Ok(FileEntry {
        path: rel.to_owned(),
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

fn io(path: &Path, source: std::io::Error) -> SetError {
    SetError::Io {
        path: path.to_owned(),
        source,
    }
}
