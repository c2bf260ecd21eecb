//! The papers the counter hands out, as PDF: the summons letter (surat panggilan) with the queue
//! number and a QR code of the packet id, the handover receipt (tanda terima) with the
//! resident's signature from the pad, the temporary letter (surat keterangan) of a reissue, and
//! the daily report. Also the PNG of a signature drawn from the pad's samples.
//!
//! PDFs use the standard Helvetica fonts (no font file, nothing fetched) and are built in
//! memory; the caller decides where they go (the printer, or a file the operator chooses).
//! Invariant: a paper shows the NIK only where the SOP puts it on paper for the resident (the
//! summons letter and the temporary letter), never in a file name.

use crate::domain::biodata::Biodata;
use crate::store::StationRow;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use rekam_drivers::signature_pad::Signature;

/// A4 in points.
const A4: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 56.0;

/// An RGB image to place on a page.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    at: [f32; 4],
}

/// One page being written: text, rectangles and images in PDF user space (origin bottom left).
struct Page {
    content: Content,
    images: Vec<Image>,
    y: f32,
}

impl Page {
    fn new() -> Page {
        Page {
            content: Content::new(),
            images: Vec::new(),
            y: A4.1 - MARGIN,
        }
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let bytes: Vec<u8> = text
            .chars()
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .collect();
        self.content.begin_text();
        self.content
            .set_font(Name(if bold { b"F2" } else { b"F1" }), size);
        self.content.next_line(x, y);
        self.content.show(Str(&bytes));
        self.content.end_text();
    }

    /// A line of text at the cursor, which moves down.
    fn line(&mut self, size: f32, bold: bool, text: &str) {
        self.y -= size * 1.5;
        let y = self.y;
        self.text_at(MARGIN, y, size, bold, text);
    }

    /// A label and its value on one line.
    fn field(&mut self, label: &str, value: &str) {
        self.y -= 16.0;
        let y = self.y;
        self.text_at(MARGIN, y, 10.0, false, label);
        self.text_at(MARGIN + 150.0, y, 10.0, true, &format!(": {value}"));
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    fn rule(&mut self) {
        self.y -= 8.0;
        self.content.move_to(MARGIN, self.y);
        self.content.line_to(A4.0 - MARGIN, self.y);
        self.content.stroke();
    }

    /// A QR code of `data`, `size` points wide, its top left at (x, y).
    fn qr(&mut self, data: &str, x: f32, y: f32, size: f32) {
        let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
            return;
        };
        let n = code.width();
        let quiet = 2.0;
        let cell = size / (n as f32 + 2.0 * quiet);
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (cx, cy) = ((i % n) as f32, (i / n) as f32);
                self.content.rect(
                    x + (cx + quiet) * cell,
                    y - (cy + quiet + 1.0) * cell,
                    cell,
                    cell,
                );
            }
        }
        self.content.fill_nonzero();
    }

    fn image(&mut self, png: &[u8], x: f32, y: f32, width: f32) {
        let Ok(img) = image::load_from_memory(png) else {
            return;
        };
        let rgb = img.to_rgb8();
        let (w, h) = rgb.dimensions();
        let height = width * h as f32 / w.max(1) as f32;
        self.images.push(Image {
            width: w,
            height: h,
            rgb: rgb.into_raw(),
            at: [x, y - height, width, height],
        });
    }
}

/// Writes A4 pages into one PDF.
fn pdf(pages: Vec<Page>, title: &str) -> Vec<u8> {
    pdf_sized(pages, title, A4)
}

/// The card face as a PDF page of the card's size (ID-1, 85.6 x 54 mm), for the card printer.
pub fn card_pdf(png: &[u8]) -> Vec<u8> {
    let size = (85.6 / 25.4 * 72.0, 54.0 / 25.4 * 72.0);
    let mut page = Page::new();
    page.image(png, 0.0, size.1, size.0);
    pdf_sized(vec![page], "KTP-el", size)
}

/// Writes pages of `size` points into one PDF.
fn pdf_sized(pages: Vec<Page>, title: &str, size: (f32, f32)) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let catalog = Ref::new(1);
    let tree = alloc();
    let regular = alloc();
    let bold = alloc();
    let info = alloc();
    let mut page_ids = Vec::new();
    let mut parts = Vec::new();
    for page in pages {
        let id = alloc();
        let content = alloc();
        let images: Vec<(Ref, Image)> = page.images.into_iter().map(|i| (alloc(), i)).collect();
        page_ids.push(id);
        parts.push((id, content, page.content, images));
    }
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    pdf.document_info(info)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("Rekam"));
    for (font, base) in [(regular, &b"Helvetica"[..]), (bold, b"Helvetica-Bold")] {
        pdf.type1_font(font)
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (id, content_id, mut content, images) in parts {
        for (k, (_, img)) in images.iter().enumerate() {
            content.save_state();
            content.transform([img.at[2], 0.0, 0.0, img.at[3], img.at[0], img.at[1]]);
            content.x_object(Name(format!("Im{k}").as_bytes()));
            content.restore_state();
        }
        let mut page = pdf.page(id);
        page.media_box(Rect::new(0.0, 0.0, size.0, size.1));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        let mut xobjects = resources.x_objects();
        for (k, (iid, _)) in images.iter().enumerate() {
            xobjects.pair(Name(format!("Im{k}").as_bytes()), *iid);
        }
        xobjects.finish();
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
        for (iid, img) in images {
            let data = miniz_oxide::deflate::compress_to_vec_zlib(&img.rgb, 6);
            let mut x = pdf.image_xobject(iid, &data);
            x.filter(Filter::FlateDecode);
            x.width(img.width as i32);
            x.height(img.height as i32);
            x.color_space().device_rgb();
            x.bits_per_component(8);
            x.finish();
        }
    }
    pdf.finish()
}

fn letterhead(page: &mut Page, station: &StationRow, title: &str, subtitle: &str) {
    page.line(11.0, true, "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL");
    page.line(
        10.0,
        false,
        &format!(
            "Kecamatan {} - stasiun perekaman {}",
            station.kecamatan, station.station_id
        ),
    );
    page.rule();
    page.gap(10.0);
    page.line(15.0, true, title);
    page.line(10.0, false, subtitle);
    page.gap(10.0);
}

fn biodata_fields(page: &mut Page, b: &Biodata) {
    page.field("NIK", b.nik.as_str());
    page.field("Nama", &b.name);
    page.field(
        "Tempat/Tgl Lahir",
        &format!("{}, {}", b.birth_place, b.birth_date),
    );
}

/// What the summons letter shows.
#[derive(Debug)]
pub struct Summons<'a> {
    /// The station.
    pub station: &'a StationRow,
    /// The visit's queue number.
    pub queue_number: &'a str,
    /// The packet id (also as QR code).
    pub packet_id: &'a str,
    /// The resident.
    pub biodata: &'a Biodata,
    /// The operator's name.
    pub operator: &'a str,
    /// When it was recorded.
    pub recorded_at: &'a str,
}

/// The summons letter (surat panggilan): the resident brings it back to collect the card.
pub fn summons_letter(s: &Summons<'_>) -> Vec<u8> {
    let mut p = Page::new();
    letterhead(
        &mut p,
        s.station,
        "SURAT PANGGILAN PENGAMBILAN KTP-el",
        "Summons to collect the electronic identity card",
    );
    p.field("Nomor antrean", s.queue_number);
    biodata_fields(&mut p, s.biodata);
    p.field("Direkam pada", s.recorded_at);
    p.field("Operator", s.operator);
    p.field("Nomor rekaman", s.packet_id);
    let top = p.y - 20.0;
    p.qr(s.packet_id, A4.0 - MARGIN - 130.0, top, 130.0);
    p.gap(150.0);
    p.line(
        10.0,
        false,
        "Data Anda telah direkam dan akan dikirim ke pusat data Kementerian Dalam Negeri.",
    );
    p.line(
        10.0,
        false,
        "Bawa surat ini dan KTP lama (bila ada) saat dipanggil untuk mengambil KTP-el.",
    );
    p.line(
        10.0,
        false,
        "Pengambilan: verifikasi sidik jari telunjuk kanan dan kiri terhadap chip.",
    );
    p.gap(30.0);
    p.line(10.0, false, "Petugas pelayanan (tanda tangan dan cap):");
    p.gap(50.0);
    p.line(
        10.0,
        false,
        "Pengambilan: berhasil / gagal  ..............................",
    );
    pdf(vec![p], &format!("Surat panggilan {}", s.queue_number))
}

/// What the handover receipt shows.
#[derive(Debug)]
pub struct Receipt<'a> {
    /// The station.
    pub station: &'a StationRow,
    /// The resident (from the chip).
    pub biodata: &'a Biodata,
    /// The chip serial.
    pub card_serial: &'a str,
    /// `berhasil` or `dispensasi`.
    pub verification: &'a str,
    /// Whether the old KTP was withdrawn.
    pub old_ktp_withdrawn: bool,
    /// The operator.
    pub operator: &'a str,
    /// When.
    pub at: &'a str,
    /// The resident's signature on the pad, PNG.
    pub signature_png: &'a [u8],
}

/// The handover receipt (tanda terima).
pub fn receipt(r: &Receipt<'_>) -> Vec<u8> {
    let mut p = Page::new();
    letterhead(
        &mut p,
        r.station,
        "TANDA TERIMA KTP-el",
        "Receipt of the electronic identity card",
    );
    biodata_fields(&mut p, r.biodata);
    p.field("Nomor chip", r.card_serial);
    p.field("Verifikasi sidik jari", r.verification);
    p.field(
        "KTP lama",
        if r.old_ktp_withdrawn {
            "ditarik"
        } else {
            "tidak ada"
        },
    );
    p.field("Diserahkan pada", r.at);
    p.field("Operator", r.operator);
    p.gap(20.0);
    p.line(10.0, false, "Tanda tangan penerima:");
    let y = p.y - 10.0;
    p.image(r.signature_png, MARGIN, y, 200.0);
    pdf(vec![p], "Tanda terima KTP-el")
}

/// What the temporary letter shows.
#[derive(Debug)]
pub struct TemporaryLetter<'a> {
    /// The station.
    pub station: &'a StationRow,
    /// The resident.
    pub biodata: &'a Biodata,
    /// Why the card is reissued (the case's label).
    pub reason: &'a str,
    /// The request's id.
    pub request_id: &'a str,
    /// The operator.
    pub operator: &'a str,
    /// Issued on.
    pub at: &'a str,
}

/// The temporary letter (surat keterangan) a resident holds until the reissued card is ready.
pub fn temporary_letter(t: &TemporaryLetter<'_>) -> Vec<u8> {
    let mut p = Page::new();
    letterhead(
        &mut p,
        t.station,
        "SURAT KETERANGAN PENGGANTI KTP-el",
        "Temporary letter in place of the electronic identity card",
    );
    biodata_fields(&mut p, t.biodata);
    p.field("Alamat", &t.biodata.address.street);
    p.field("Permohonan", t.reason);
    p.field("Nomor permohonan", t.request_id);
    p.field("Tanggal", t.at);
    p.field("Operator", t.operator);
    p.gap(20.0);
    p.line(
        10.0,
        false,
        "Penduduk tersebut telah direkam dan KTP-el penggantinya sedang diproses dari data",
    );
    p.line(
        10.0,
        false,
        "pusat tanpa perekaman ulang. Surat ini berlaku sebagai pengganti KTP-el sementara.",
    );
    p.gap(30.0);
    p.line(10.0, false, "Camat (tanda tangan dan cap):");
    pdf(vec![p], "Surat keterangan")
}

/// A report of titled sections of lines, paginated.
pub fn report_pdf(title: &str, sections: &[(String, Vec<String>)]) -> Vec<u8> {
    let mut pages = vec![Page::new()];
    let page = |pages: &mut Vec<Page>| {
        if pages.last().is_none_or(|p| p.y < MARGIN + 40.0) {
            pages.push(Page::new());
        }
    };
    if let Some(p) = pages.last_mut() {
        p.line(15.0, true, title);
    }
    for (heading, lines) in sections {
        page(&mut pages);
        if let Some(p) = pages.last_mut() {
            p.gap(8.0);
            p.line(12.0, true, heading);
        }
        for l in lines {
            page(&mut pages);
            if let Some(p) = pages.last_mut() {
                p.line(9.5, false, l);
            }
        }
    }
    pdf(pages, title)
}

/// The PNG of a signature: the pad's pen-down strokes, black on white, 600 x 200.
pub fn signature_png(sig: &Signature) -> Vec<u8> {
    let (w, h) = (600u32, 200u32);
    let mut img = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    let sx = w as f32 / f32::from(sig.pad.max_x.max(1));
    let sy = h as f32 / f32::from(sig.pad.max_y.max(1));
    let mut dot = |x: f32, y: f32| {
        for dy in -1i32..=1 {
            for dx in -1i32..=1 {
                let (px, py) = (x as i32 + dx, y as i32 + dy);
                if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                    img.put_pixel(px as u32, py as u32, image::Luma([0]));
                }
            }
        }
    };
    for pair in sig.samples.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if !(a.pen_down && b.pen_down) {
            continue;
        }
        let (ax, ay) = (f32::from(a.x) * sx, f32::from(a.y) * sy);
        let (bx, by) = (f32::from(b.x) * sx, f32::from(b.y) * sy);
        let steps = ((bx - ax).abs().max((by - ay).abs()).ceil() as usize).max(1);
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            dot(ax + (bx - ax) * t, ay + (by - ay) * t);
        }
    }
    let mut out = Vec::new();
    let _ = image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png);
    out
}

/// The QR code of `data` as an SVG image (one square per dark module, a two-module quiet
/// zone), for screens that show a document's code beside its PDF.
pub fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    let n = code.width();
    let side = n + 4;
    let mut path = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % n + 2, i / n + 2));
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" \
         fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}
