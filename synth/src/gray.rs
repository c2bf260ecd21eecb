//! Small image types: a float field for synthesis and an 8-bit grey image for output.

use std::io::Cursor;

/// A grey image, 8 bits per pixel, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray8 {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` bytes.
    pub data: Vec<u8>,
}

impl Gray8 {
    /// A blank image of `value`.
    pub fn filled(width: usize, height: usize, value: u8) -> Self {
        Gray8 {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    /// PNG bytes (lossless; ISO/IEC 19794-4 allows PNG for finger images).
    pub fn to_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let img =
            image::GrayImage::from_raw(self.width as u32, self.height as u32, self.data.clone())
                .unwrap_or_else(|| unreachable!("buffer size matches dimensions"));
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap_or_else(|e| unreachable!("PNG encoding into memory cannot fail: {e}"));
        out
    }
}

/// PNG bytes of raw pixels, at the best compression (fixtures are committed; size matters more
/// than the milliseconds).
pub fn png_bytes(data: &[u8], width: u32, height: u32, color: image::ExtendedColorType) -> Vec<u8> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut out = Vec::new();
    PngEncoder::new_with_quality(
        Cursor::new(&mut out),
        CompressionType::Best,
        FilterType::Adaptive,
    )
    .write_image(data, width, height, color)
    .unwrap_or_else(|e| unreachable!("PNG encoding into memory cannot fail: {e}"));
    out
}

/// A float field, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// Values.
    pub data: Vec<f32>,
}

impl Field {
    /// A field of zeros.
    pub fn zeros(width: usize, height: usize) -> Self {
        Field {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// The value at (`x`, `y`), clamped to the edges.
    pub fn at(&self, x: isize, y: isize) -> f32 {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.data[y * self.width + x]
    }

    /// Bilinear sample at (`x`, `y`); `outside` beyond the edges.
    pub fn sample(&self, x: f32, y: f32, outside: f32) -> f32 {
        if !(x >= 0.0 && y >= 0.0 && x <= (self.width - 1) as f32 && y <= (self.height - 1) as f32)
        {
            return outside;
        }
        let (x0, y0) = (x.floor() as isize, y.floor() as isize);
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let a = self.at(x0, y0) * (1.0 - fx) + self.at(x0 + 1, y0) * fx;
        let b = self.at(x0, y0 + 1) * (1.0 - fx) + self.at(x0 + 1, y0 + 1) * fx;
        a * (1.0 - fy) + b * fy
    }

    /// Copies `src` into this field at (`x0`, `y0`), keeping the larger value where both are
    /// set (ink of fingers laid side by side on one platen).
    pub fn blit_max(&mut self, src: &Field, x0: isize, y0: isize) {
        for y in 0..src.height {
            let ty = y0 + y as isize;
            if ty < 0 || ty >= self.height as isize {
                continue;
            }
            for x in 0..src.width {
                let tx = x0 + x as isize;
                if tx < 0 || tx >= self.width as isize {
                    continue;
                }
                let t = &mut self.data[ty as usize * self.width + tx as usize];
                *t = t.max(src.data[y * src.width + x]);
            }
        }
    }

    /// Gaussian blur with standard deviation `sigma` (separable; a no-op below 0.3).
    pub fn blur(&self, sigma: f32) -> Field {
        if sigma < 0.3 {
            return self.clone();
        }
        let r = (sigma * 3.0).ceil() as isize;
        let k: Vec<f32> = (-r..=r)
            .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
            .collect();
        let sum: f32 = k.iter().sum();
        let k: Vec<f32> = k.iter().map(|v| v / sum).collect();
        let mut tmp = Field::zeros(self.width, self.height);
        for y in 0..self.height {
            for x in 0..self.width {
                let mut acc = 0.0;
                for (i, w) in k.iter().enumerate() {
                    acc += w * self.at(x as isize + i as isize - r, y as isize);
                }
                tmp.data[y * self.width + x] = acc;
            }
        }
        let mut out = Field::zeros(self.width, self.height);
        for y in 0..self.height {
            for x in 0..self.width {
                let mut acc = 0.0;
                for (i, w) in k.iter().enumerate() {
                    acc += w * tmp.at(x as isize, y as isize + i as isize - r);
                }
                out.data[y * self.width + x] = acc;
            }
        }
        out
    }
}

/// Smooth random noise in [-1, 1]: random values on a coarse grid, interpolated smoothly.
pub fn smooth_noise(rng: &mut impl rand::Rng, width: usize, height: usize, cell: f32) -> Field {
    let gw = (width as f32 / cell).ceil() as usize + 2;
    let gh = (height as f32 / cell).ceil() as usize + 2;
    let grid: Vec<f32> = (0..gw * gh).map(|_| rng.random_range(-1.0..1.0)).collect();
    let g = |x: usize, y: usize| grid[y.min(gh - 1) * gw + x.min(gw - 1)];
    let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
    let mut out = Field::zeros(width, height);
    for y in 0..height {
        let gy = y as f32 / cell;
        let (iy, fy) = (gy.floor() as usize, smooth(gy.fract()));
        for x in 0..width {
            let gx = x as f32 / cell;
            let (ix, fx) = (gx.floor() as usize, smooth(gx.fract()));
            let a = g(ix, iy) * (1.0 - fx) + g(ix + 1, iy) * fx;
            let b = g(ix, iy + 1) * (1.0 - fx) + g(ix + 1, iy + 1) * fx;
            out.data[y * width + x] = a * (1.0 - fy) + b * fy;
        }
    }
    out
}
