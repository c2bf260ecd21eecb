//! The printed front of the card, for the card printer: 85.6 x 54 mm (ID-1) at 300 dpi, laid
//! out as a real KTP-el front (`../shared/docs/domain.md`, "Printed card fields"): the province
//! and regency header, the NIK, the fields in the card's order and labels, the photo, the place
//! and date of issue, and the holder's signature; light blue for citizens, orange for foreign
//! residents (whose card expires with the KITAP). PNG, and a PDF of the card's exact size.
//!
//! Fonts are the bundled DejaVu Sans Condensed (`assets/fonts`), so nothing depends on the
//! machine's fonts.

use crate::domain::biodata::{Biodata, Kewarganegaraan};
use crate::domain::region::{RegionCode, RegionDirectory};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::{Rgb, RgbImage};
use time::Date;

/// Width, pixels (85.6 mm at 300 dpi).
pub const WIDTH: u32 = 1011;
/// Height, pixels (54 mm at 300 dpi).
pub const HEIGHT: u32 = 638;

const REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSansCondensed.ttf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSansCondensed-Bold.ttf");

/// What the front shows besides the biodata.
#[derive(Debug, Clone)]
pub struct CardFace<'a> {
    /// The holder.
    pub biodata: &'a Biodata,
    /// The portrait (any format `image` reads).
    pub photo: &'a [u8],
    /// The holder's signature, PNG.
    pub signature: &'a [u8],
    /// Where the card is issued (the regency or city).
    pub issued_at: &'a str,
    /// When.
    pub issued_on: Date,
}

struct Canvas {
    img: RgbImage,
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

impl Canvas {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) -> f32 {
        let font = if bold { &self.bold } else { &self.regular };
        let scaled = font.as_scaled(PxScale::from(size));
        let mut caret = x;
        let baseline = y + scaled.ascent();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            let glyph = id.with_scale_and_position(size, ab_glyph::point(caret, baseline));
            caret += scaled.h_advance(id);
            if let Some(outlined) = font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                let img = &mut self.img;
                outlined.draw(|gx, gy, cover| {
                    let (px, py) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                    if px < 0 || py < 0 || px >= i64::from(WIDTH) || py >= i64::from(HEIGHT) {
                        return;
                    }
                    let p = img.get_pixel_mut(px as u32, py as u32);
                    for ch in &mut p.0 {
                        *ch = (f32::from(*ch) * (1.0 - cover)) as u8;
                    }
                });
            }
        }
        caret - x
    }

    fn centred(&mut self, y: f32, size: f32, text: &str) {
        let scaled = self.bold.as_scaled(PxScale::from(size));
        let w: f32 = text
            .chars()
            .map(|c| scaled.h_advance(scaled.glyph_id(c)))
            .sum();
        self.text((WIDTH as f32 - w) / 2.0, y, size, true, text);
    }

    fn paste(&mut self, bytes: &[u8], x: u32, y: u32, w: u32, h: u32, multiply: bool) {
        let Ok(img) = image::load_from_memory(bytes) else {
            return;
        };
        let img =
            image::imageops::resize(&img.to_rgb8(), w, h, image::imageops::FilterType::Triangle);
        for (px, py, p) in img.enumerate_pixels() {
            let dst = self.img.get_pixel_mut(x + px, y + py);
            if multiply {
                // A signature: ink darkens the background, white leaves it.
                for (d, s) in dst.0.iter_mut().zip(p.0) {
                    *d = ((u16::from(*d) * u16::from(s)) / 255) as u8;
                }
            } else {
                *dst = *p;
            }
        }
    }
}

fn background(foreign: bool) -> RgbImage {
    let (top, bottom): ([f32; 3], [f32; 3]) = if foreign {
        ([255.0, 214.0, 160.0], [245.0, 160.0, 80.0])
    } else {
        ([214.0, 236.0, 250.0], [150.0, 200.0, 235.0])
    };
    RgbImage::from_fn(WIDTH, HEIGHT, |_, y| {
        let t = y as f32 / HEIGHT as f32;
        Rgb(std::array::from_fn(|i| {
            (top[i] + (bottom[i] - top[i]) * t) as u8
        }))
    })
}

fn upper(name: &str) -> String {
    name.to_uppercase()
}

/// Renders the front as a PNG. `regions` names the province, regency, kecamatan and village.
/// `None` only if the bundled fonts did not parse (a unit test pins that they do).
pub fn render_png(face: &CardFace<'_>, regions: &dyn RegionDirectory) -> Option<Vec<u8>> {
    let b = face.biodata;
    let foreign = matches!(b.citizenship, Kewarganegaraan::Wna { .. });
    let mut c = Canvas {
        img: background(foreign),
        regular: FontRef::try_from_slice(REGULAR).ok()?,
        bold: FontRef::try_from_slice(BOLD).ok()?,
    };
    let name_of = |code: Option<RegionCode>| {
        code.and_then(|c| regions.region(&c))
            .map(|r| upper(&r.name))
            .unwrap_or_default()
    };
    let village = &b.address.village;
    let lineage = village.lineage();
    let at = |i: usize| lineage.get(i).cloned();
    c.centred(18.0, 30.0, &format!("PROVINSI {}", name_of(at(0))));
    c.centred(52.0, 30.0, &name_of(at(1)));
    c.text(30.0, 100.0, 34.0, true, "NIK");
    c.text(150.0, 100.0, 34.0, true, &format!(": {}", b.nik.as_str()));

    let religion = b.religion.card_label().to_owned();
    let citizenship = match &b.citizenship {
        Kewarganegaraan::Wni => "WNI".to_owned(),
        Kewarganegaraan::Wna { nationality, .. } => nationality.clone(),
    };
    let valid = match &b.citizenship {
        Kewarganegaraan::Wni => "SEUMUR HIDUP".to_owned(),
        Kewarganegaraan::Wna { kitap, .. } => kitap.expires_on.to_string(),
    };
    let sex = match b.sex {
        crate::domain::nik::Sex::Male => "LAKI-LAKI",
        crate::domain::nik::Sex::Female => "PEREMPUAN",
    };
    let blood = b.blood_type.map_or("-".to_owned(), |g| g.to_string());
    let fields: [(&str, String); 13] = [
        ("Nama", upper(&b.name)),
        (
            "Tempat/Tgl Lahir",
            format!("{}, {}", upper(&b.birth_place), card_date(b.birth_date)),
        ),
        ("Jenis Kelamin", format!("{sex}      Gol. Darah: {blood}")),
        ("Alamat", upper(&b.address.street)),
        (
            "    RT/RW",
            format!("{:03}/{:03}", b.address.rt, b.address.rw),
        ),
        ("    Kel/Desa", name_of(Some(village.clone()))),
        ("    Kecamatan", name_of(at(2))),
        ("Agama", religion),
        (
            "Status Perkawinan",
            b.marital_status.card_label().to_owned(),
        ),
        ("Pekerjaan", b.occupation.card_label().to_owned()),
        ("Kewarganegaraan", citizenship),
        ("Berlaku Hingga", valid),
        ("", String::new()),
    ];
    let mut y = 150.0;
    for (label, value) in fields.iter().filter(|(l, _)| !l.is_empty()) {
        c.text(30.0, y, 22.0, false, label);
        let shown: String = value.chars().take(40).collect();
        c.text(230.0, y, 22.0, true, &format!(": {shown}"));
        y += 36.0;
    }
    c.paste(face.photo, 760, 120, 210, 280, false);
    c.centred_at(865.0, 410.0, 20.0, &upper(face.issued_at));
    c.centred_at(865.0, 436.0, 20.0, &card_date(face.issued_on));
    c.paste(face.signature, 770, 470, 190, 63, true);
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(c.img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .ok()?;
    Some(out)
}

impl Canvas {
    fn centred_at(&mut self, cx: f32, y: f32, size: f32, text: &str) {
        let scaled = self.regular.as_scaled(PxScale::from(size));
        let w: f32 = text
            .chars()
            .map(|c| scaled.h_advance(scaled.glyph_id(c)))
            .sum();
        self.text(cx - w / 2.0, y, size, false, text);
    }
}

/// DD-MM-YYYY, as the card prints dates.
fn card_date(d: Date) -> String {
    format!("{:02}-{:02}-{}", d.day(), u8::from(d.month()), d.year())
}

/// The card face as a one-page PDF of the card's size, for the card printer.
pub fn render_pdf(png: &[u8]) -> Vec<u8> {
    crate::documents::card_pdf(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_fonts_parse() {
        assert!(FontRef::try_from_slice(REGULAR).is_ok());
        assert!(FontRef::try_from_slice(BOLD).is_ok());
    }
}
