//! A generated resident as a finished recording: the manifest and the ISO/IEC 19794 records a
//! counter would seal, built the way the devices deliver them (finger images PNG at 500 ppi,
//! iris and face JPEG, signatures from the pad's pen events), with the engine's minutiae
//! templates. For packet, gateway and sync tests and benchmarks.

use crate::finger::impression::{Capture as FingerCapture, Quality, impression};
use crate::finger::{FingerPosition, master_print};
use crate::resident::{MissingReason, RegionPool};
use crate::seed::Seed;
use crate::set::{SetOptions, generate_resident};
use crate::signature::{PenEvent, render};
use rekam_bio::finger::extract::{Gray, extract};
use rekam_bio::finger::{FingerTemplate, record_of};
use rekam_bio::person::PersonTemplate;
use rekam_domain::case::CaseType;
use rekam_domain::manifest::{
    Capture, CaptureException, DeviceIdentity, DocumentCheck, ExceptionReason, MANIFEST_FORMAT,
    Manifest, Modality, Recording, StepTiming,
};
use rekam_records::cbeff::{BiometricType, Bir, Format, Purpose, eye_subtype, finger_subtype};
use rekam_records::face::{FaceFormat, FaceImage};
use rekam_records::finger::{Compression, FingerImage};
use rekam_records::iris::{Eye, IrisFormat, IrisImage};
use time::Date;

pub use rekam_domain::manifest::{OWNER_REKAM, PEN_STROKES, SIGNATURE_IMAGE};

/// A generated recording and the person template its fingers and irises give.
#[derive(Debug)]
pub struct SynthRecording {
    /// What a station seals.
    pub recording: Recording,
    /// The engine's template of the resident (for the station's de-duplication row).
    pub person: PersonTemplate,
}

/// Pen events as the [`PEN_STROKES`] block.
pub fn strokes_to_bytes(events: &[PenEvent]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 11);
    for e in events {
        out.extend_from_slice(&e.x.to_be_bytes());
        out.extend_from_slice(&e.y.to_be_bytes());
        out.extend_from_slice(&e.pressure.to_be_bytes());
        out.extend_from_slice(&e.t_ms.to_be_bytes());
        out.push(u8::from(e.pen_down));
    }
    out
}

fn device(kind: &str) -> DeviceIdentity {
    DeviceIdentity {
        make: "Rekam".into(),
        model: format!("SIM-{kind}"),
        serial: format!("SIM-{kind}-0001"),
        certificate_sha256: "0".repeat(64),
    }
}

/// A capture by the simulated `kind` device, kept at its first try.
fn captured(
    modality: Modality,
    position: Option<u8>,
    record: Option<u32>,
    quality: Option<u8>,
    kind: &str,
) -> Capture {
    Capture {
        modality,
        position,
        record,
        strokes: None,
        quality,
        retries: 0,
        exception: None,
        device: Some(device(kind)),
        device_signature: None,
    }
}

fn jpeg_gray(png: &[u8]) -> (Vec<u8>, u16, u16) {
    let img = image::load_from_memory(png)
        .map(|i| i.to_luma8())
        .unwrap_or_else(|_| image::GrayImage::new(1, 1));
    let mut out = Vec::new();
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img);
    (out, img.width() as u16, img.height() as u16)
}

fn finger_template(png: &[u8], position: u8) -> Option<(FingerTemplate, u16, u16)> {
    let img = image::load_from_memory(png).ok()?.to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let t = extract(
        Gray {
            data: img.as_raw(),
            width: w,
            height: h,
        },
        position,
    )
    .ok()?;
    Some((t, w as u16, h as u16))
}

fn push(records: &mut Vec<Bir>, bir: Bir) -> Option<u32> {
    records.push(bir);
    Some((records.len() - 1) as u32)
}

/// Builds resident `index` of `seed` as a finished new recording by `operator_id`.
pub fn recording(
    pool: &RegionPool,
    seed: u64,
    index: u64,
    as_of: Date,
    operator_id: &str,
) -> Option<SynthRecording> {
    let opts = SetOptions {
        slaps: false,
        signings: 2,
        ..SetOptions::minimal(1, seed, as_of)
    };
    let generated = generate_resident(&opts, pool, index);
    let resident = &generated.record.resident;
    let biodata = resident.biodata.clone()?;
    let file = |part: &str| {
        generated
            .files
            .iter()
            .find(|(p, _)| p.contains(part))
            .map(|(_, b)| b.as_slice())
    };
    let mut records = Vec::new();
    let mut captures = Vec::new();

    let mut templates = Vec::new();
    for p in FingerPosition::ALL {
        let code = p.code();
        if let Some(m) = resident.missing_fingers.iter().find(|m| m.position == p) {
            captures.push(Capture {
                modality: Modality::Finger,
                position: Some(code),
                record: None,
                strokes: None,
                quality: None,
                retries: 0,
                exception: Some(CaptureException {
                    reason: match m.reason {
                        MissingReason::Amputated => ExceptionReason::Amputated,
                        MissingReason::Bandaged => ExceptionReason::Bandaged,
                    },
                    approved_by: "SPV-01".into(),
                }),
                device: None,
                device_signature: None,
            });
            continue;
        }
        let png = file(&format!("/finger/{code:02}-"))?;
        let (t, w, h) = finger_template(png, code)?;
        let image = FingerImage {
            position: code,
            quality: 80,
            impression: 0,
            width: w,
            height: h,
            acquisition: rekam_records::finger::Acquisition::live_scan(500),
            compression: Compression::Png,
            data: png.to_vec(),
        };
        templates.push(t);
        let record = push(
            &mut records,
            Bir {
                kind: BiometricType::Finger,
                subtype: finger_subtype(code)?,
                format: Format::FingerImage,
                quality: Some(80),
                purpose: Purpose::Enroll,
                data: image.to_bytes().ok()?,
            },
        );
        captures.push(captured(
            Modality::Finger,
            Some(code),
            record,
            Some(80),
            "FINGER",
        ));
    }
    let finger_templates = if templates.is_empty() {
        None
    } else {
        push(
            &mut records,
            Bir {
                kind: BiometricType::Finger,
                subtype: 0,
                format: Format::FingerMinutiae,
                quality: None,
                purpose: Purpose::Enroll,
                data: record_of(&templates).ok()?,
            },
        )
    };

    let mut irises = [None, None];
    for (eye, name, position) in [(Eye::Right, "right", 1u8), (Eye::Left, "left", 2)] {
        let png = file(&format!("/iris/{name}-"))?;
        let img = image::load_from_memory(png).ok()?.to_luma8();
        irises[usize::from(position) - 1] = rekam_bio::iris::code(Gray {
            data: img.as_raw(),
            width: img.width() as usize,
            height: img.height() as usize,
        })
        .ok()
        .map(|(c, _)| c);
        let (jpeg, w, h) = jpeg_gray(png);
        let record = push(
            &mut records,
            Bir {
                kind: BiometricType::Iris,
                subtype: eye_subtype(eye == Eye::Right),
                format: Format::IrisImage,
                quality: Some(80),
                purpose: Purpose::Enroll,
                data: IrisImage {
                    eye,
                    quality: 80,
                    iris_diameter: 0,
                    width: w,
                    height: h,
                    format: IrisFormat::MonoJpeg,
                    device: *b"SIM-IRIS-0001\0\0\0",
                    acquisition: rekam_records::iris::Acquisition::live_scan(),
                    data: jpeg,
                }
                .to_bytes()
                .ok()?,
            },
        );
        captures.push(captured(
            Modality::Iris,
            Some(position),
            record,
            Some(80),
            "IRIS",
        ));
    }

    let face = image::load_from_memory(file("/face/good")?).ok()?.to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&face)
        .ok()?;
    let record = push(
        &mut records,
        Bir {
            kind: BiometricType::Face,
            subtype: 0,
            format: Format::FaceImage,
            quality: Some(80),
            purpose: Purpose::Enroll,
            data: FaceImage {
                width: face.width() as u16,
                height: face.height() as u16,
                quality: 80,
                format: FaceFormat::Jpeg,
                data: jpeg,
            }
            .to_bytes()
            .ok()?,
        },
    );
    captures.push(captured(Modality::Face, None, record, Some(80), "FACE"));

    for (k, modality) in [(1, Modality::Signature), (2, Modality::StatementSignature)] {
        let events: Vec<PenEvent> =
            serde_json::from_slice(file(&format!("signature-{k}.json"))?).ok()?;
        let block = |kind: u16, data: Vec<u8>| Bir {
            kind: BiometricType::Signature,
            subtype: 0,
            format: Format::Other(OWNER_REKAM, kind),
            quality: None,
            purpose: Purpose::Enroll,
            data,
        };
        let record = push(
            &mut records,
            block(SIGNATURE_IMAGE, render(&events, 600, 200).to_png()),
        );
        let strokes = push(&mut records, block(PEN_STROKES, strokes_to_bytes(&events)));
        captures.push(Capture {
            strokes,
            ..captured(modality, None, record, None, "PAD")
        });
    }

    // The operator's right index finger, from a print of the operator's own.
    let oseed = Seed::from_u64(seed).child("operator").child(operator_id);
    let master = master_print(oseed.child("master"), FingerPosition::RightIndex);
    let cap = FingerCapture::draw(&mut oseed.child("capture").rng(), Quality::GOOD);
    let img = impression(&master, &cap, oseed.child("sensor"));
    let operator = extract(
        Gray {
            data: &img.data,
            width: img.width,
            height: img.height,
        },
        FingerPosition::RightIndex.code(),
    )
    .ok()?;
    let record = push(
        &mut records,
        Bir {
            kind: BiometricType::Finger,
            subtype: 0,
            format: Format::FingerMinutiae,
            quality: None,
            purpose: Purpose::Verify,
            data: record_of(&[operator]).ok()?,
        },
    );
    captures.push(captured(
        Modality::OperatorFinger,
        None,
        record,
        None,
        "FINGER",
    ));

    let case = CaseType::NewRecording;
    let documents = case
        .checklist()
        .iter()
        .map(|r| DocumentCheck {
            document: r.document,
            presented: true,
        })
        .collect();
    let steps = [
        "queue",
        "documents",
        "biodata",
        "photo",
        "signature",
        "fingers",
        "irises",
    ]
    .iter()
    .zip([40.0, 95.0, 80.0, 30.0, 25.0, 150.0, 60.0])
    .map(|(s, t)| StepTiming {
        step: (*s).into(),
        seconds: t,
    })
    .collect();
    let mut person = PersonTemplate::from_fingers(templates);
    person.irises = irises;
    Some(SynthRecording {
        recording: Recording {
            manifest: Manifest {
                format: MANIFEST_FORMAT,
                packet_id: String::new(),
                station_id: String::new(),
                kecamatan: String::new(),
                operator_id: operator_id.into(),
                case,
                queue_number: Some(format!("A-{:03}", index + 1)),
                recorded_at: format!("{as_of}T09:00:00Z"),
                biodata,
                biodata_source: None,
                documents,
                captures,
                finger_templates,
                steps,
            },
            records,
        },
        person,
    })
}
