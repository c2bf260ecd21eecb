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

    /// Gaussian blur with standard deviation `sigma` (separable, edges clamped; a no-op below
    /// 0.3).
    pub fn blur(&self, sigma: f32) -> Field {
        if sigma < 0.3 {
            return self.clone();
        }
        let r = (sigma * 3.0).ceil() as usize;
        let k: Vec<f32> = (0..=2 * r)
            .map(|i| {
                let d = i as f32 - r as f32;
                (-(d * d) / (2.0 * sigma * sigma)).exp()
            })
            .collect();
        let sum: f32 = k.iter().sum();
        let k: Vec<f32> = k.iter().map(|v| v / sum).collect();
        let (w, h) = (self.width, self.height);
        // One pass along rows, one along columns; each line is padded with its edge values so
        // the inner loop has no bounds logic.
        let pass =
            |src: &[f32], len: usize, lines: usize, stride: usize, step: usize| -> Vec<f32> {
                let mut out = vec![0f32; src.len()];
                let mut line = vec![0f32; len + 2 * r];
                for l in 0..lines {
                    let at = |i: usize| src[l * stride + i * step];
                    for (j, slot) in line.iter_mut().enumerate() {
                        *slot = at(j.saturating_sub(r).min(len - 1));
                    }
                    for i in 0..len {
                        let window = &line[i..i + 2 * r + 1];
                        out[l * stride + i * step] =
                            window.iter().zip(&k).map(|(a, b)| a * b).sum();
                    }
                }
                out
            };
        let rows = pass(&self.data, w, h, w, 1);
        let data = pass(&rows, h, w, 1, w);
        Field {
            width: w,
            height: h,
            data,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_constants_and_mass_and_spreads_symmetrically() {
        let mut f = Field::zeros(21, 15);
        f.data.iter_mut().for_each(|v| *v = 3.0);
        assert!(f.blur(1.7).data.iter().all(|v| (v - 3.0).abs() < 1e-5));

        let mut impulse = Field::zeros(21, 15);
        impulse.data[7 * 21 + 10] = 1.0;
        let b = impulse.blur(1.2);
        let total: f32 = b.data.iter().sum();
        assert!((total - 1.0).abs() < 1e-5, "mass {total}");
        for (dx, dy) in [(1, 0), (2, 1), (0, 3)] {
            let a = b.at(10 + dx, 7 + dy);
            let c = b.at(10 - dx, 7 - dy);
            assert!((a - c).abs() < 1e-7 && a > 0.0, "({dx},{dy}): {a} vs {c}");
        }
        assert!(b.at(10, 7) > b.at(11, 7) && b.at(11, 7) > b.at(12, 7));

        // At an edge the image continues with its edge value (no dark border).
        let mut ramp = Field::zeros(9, 3);
        for (i, v) in ramp.data.iter_mut().enumerate() {
            *v = (i % 9) as f32;
        }
        let r = ramp.blur(1.0);
        assert!(r.at(0, 1) > 0.0 && r.at(0, 1) < 1.0, "{}", r.at(0, 1));
        assert!((r.at(4, 1) - 4.0).abs() < 1e-4);
    }

    #[test]
    fn below_the_threshold_blur_is_a_copy() {
        let mut f = Field::zeros(4, 4);
        f.data[5] = 2.0;
        assert_eq!(f.blur(0.2), f);
    }
}
