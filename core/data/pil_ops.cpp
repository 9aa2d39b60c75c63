// core/data/pil_ops.cpp — Pillow 9.4's arithmetic, operation by operation: lookup tables, binary32 blends, the
// affine resampler in binary64. Built with -ffp-contract=off: a fused multiply-add would change rare pixels.
#include "core/data/pil_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace bplab::pil {
namespace {

using Table = std::array<int, 256>;

void require_rgb(const Image& img, const char* op) {
    if (img.channels != 3) throw std::invalid_argument(std::string(op) + ": an image of " + std::to_string(img.channels) + " channels (expected RGB, 3)");
    if (img.height < 1 || img.width < 1 || img.pixels.size() != static_cast<std::size_t>(img.height * img.width * 3))
        throw std::invalid_argument(std::string(op) + ": " + std::to_string(img.pixels.size()) + " bytes for a " + std::to_string(img.height) +
                                    "x" + std::to_string(img.width) + " RGB image (expected height x width x 3, at least 1x1)");
}

void require_range(const char* op, const char* what, int v, int lo, int hi) {
    if (v < lo || v > hi)
        throw std::invalid_argument(std::string(op) + ": " + what + " " + std::to_string(v) + " (expected " + std::to_string(lo) + ".." +
                                    std::to_string(hi) + ")");
}

/// Image.point with one table per channel; entries are clipped to 0..255 first, as Pillow does.
void apply(Image& img, const std::array<Table, 3>& tables) {
    std::array<std::array<std::uint8_t, 256>, 3> lut;
    for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 256; ++v) lut[c][v] = static_cast<std::uint8_t>(std::clamp(tables[c][v], 0, 255));
    for (std::size_t i = 0; i < img.pixels.size(); i += 3)
        for (std::size_t c = 0; c < 3; ++c) img.pixels[i + c] = lut[c][img.pixels[i + c]];
}

void apply(Image& img, const Table& table) { apply(img, {table, table, table}); }

std::array<std::array<std::int64_t, 256>, 3> histograms(const Image& img) {
    std::array<std::array<std::int64_t, 256>, 3> h{};
    for (std::size_t i = 0; i < img.pixels.size(); i += 3)
        for (std::size_t c = 0; c < 3; ++c) ++h[c][img.pixels[i + c]];
    return h;
}

Table identity() {
    Table t;
    for (int v = 0; v < 256; ++v) t[v] = v;
    return t;
}

/// Pillow's RGB to L: fixed-point luma, rounded half up.
std::uint8_t luma(const std::uint8_t* p) { return static_cast<std::uint8_t>((19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 0x8000) >> 16); }

/// Image.blend(degenerate, img, alpha) into img: binary32, truncated; clamped when alpha is outside [0, 1].
void blend_from(Image& img, const std::vector<std::uint8_t>& degenerate, double factor) {
    const auto a = static_cast<float>(factor);
    if (a == 0.0f) {
        img.pixels = degenerate;
        return;
    }
    if (a == 1.0f) return;
    const bool inside = a >= 0.0f && a <= 1.0f;
    for (std::size_t i = 0; i < img.pixels.size(); ++i) {
        const auto p1 = static_cast<int>(degenerate[i]), p2 = static_cast<int>(img.pixels[i]);
        const float t = static_cast<float>(p1) + a * static_cast<float>(p2 - p1);
        img.pixels[i] = inside ? static_cast<std::uint8_t>(t) : t <= 0.0f ? 0 : t >= 255.0f ? 255 : static_cast<std::uint8_t>(t);
    }
}

/// ImageFilter.SMOOTH (3 × 3, centre 5, the rest 1, over 13); Pillow keeps the one-pixel border as it is.
std::vector<std::uint8_t> smooth(const Image& img) {
    std::vector<std::uint8_t> out = img.pixels;
    const std::int64_t h = img.height, w = img.width;
    if (h < 3 || w < 3) return out;
    const auto at = [&](std::int64_t y, std::int64_t x, std::int64_t c) { return static_cast<int>(img.pixels[static_cast<std::size_t>((y * w + x) * 3 + c)]); };
    for (std::int64_t y = 1; y < h - 1; ++y)
        for (std::int64_t x = 1; x < w - 1; ++x)
            for (std::int64_t c = 0; c < 3; ++c) {
                int s = 4 * at(y, x, c);
                for (std::int64_t dy = -1; dy <= 1; ++dy)
                    for (std::int64_t dx = -1; dx <= 1; ++dx) s += at(y + dy, x + dx, c);
                out[static_cast<std::size_t>((y * w + x) * 3 + c)] = static_cast<std::uint8_t>((s + 6) / 13);  // = Pillow's float sum + 0.5, truncated
            }
    return out;
}

/// Pillow's cubic convolution (a = -1) through four samples at fraction d, in its Horner form.
double cubic(double v1, double v2, double v3, double v4, double d) {
    const double p1 = v2, p2 = -v1 + v3, p3 = ((2.0 * (v1 - v2)) + v3) - v4, p4 = ((-v1 + v2) - v3) + v4;
    return p1 + d * (p2 + d * (p3 + d * p4));
}

/// Python's round(v, 15): the decimal rounding of the exact binary value, read back.
double round15(double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.15f", v);
    return std::strtod(text, nullptr);
}

/// Image.rotate's exact quarter turns (0 and 180 always, 90 and 270 for squares): a copy of permuted pixels.
/// `source(y, x)` gives the input pixel (row, column) of output (y, x).
template <class Source>
void permute(Image& img, Source source) {
    const std::vector<std::uint8_t> in = img.pixels;
    for (std::int64_t y = 0; y < img.height; ++y)
        for (std::int64_t x = 0; x < img.width; ++x) {
            const auto [sy, sx] = source(y, x);
            std::copy_n(in.begin() + (sy * img.width + sx) * 3, 3, img.pixels.begin() + (y * img.width + x) * 3);
        }
}

}  // namespace

void auto_contrast(Image& img) {
    require_rgb(img, "auto_contrast");
    const auto h = histograms(img);
    std::array<Table, 3> tables;
    for (int c = 0; c < 3; ++c) {
        int lo = 0, hi = 255;
        while (lo < 256 && h[c][lo] == 0) ++lo;
        while (hi >= 0 && h[c][hi] == 0) --hi;
        tables[c] = identity();
        if (hi <= lo) continue;
        const double scale = 255.0 / static_cast<double>(hi - lo), offset = static_cast<double>(-lo) * scale;
        for (int v = 0; v < 256; ++v) {
            const double t = static_cast<double>(v) * scale + offset;
            tables[c][v] = static_cast<int>(t);  // truncated (|t| < 2^16); clipped by apply
        }
    }
    apply(img, tables);
}

void equalize(Image& img) {
    require_rgb(img, "equalize");
    const auto h = histograms(img);
    std::array<Table, 3> tables;
    for (int c = 0; c < 3; ++c) {
        tables[c] = identity();
        std::int64_t total = 0, last = 0, occupied = 0;
        for (int v = 0; v < 256; ++v)
            if (h[c][v] > 0) total += h[c][v], last = h[c][v], ++occupied;
        if (occupied <= 1) continue;
        const std::int64_t step = (total - last) / 255;  // `last`: the highest occupied value's count
        if (step == 0) continue;
        std::int64_t n = step / 2;
        for (int v = 0; v < 256; ++v) {
            tables[c][v] = static_cast<int>(n / step);  // can reach 256: clipped by apply
            n += h[c][v];
        }
    }
    apply(img, tables);
}

void invert(Image& img) {
    require_rgb(img, "invert");
    Table t;
    for (int v = 0; v < 256; ++v) t[v] = 255 - v;
    apply(img, t);
}

void posterize(Image& img, int bits) {
    require_rgb(img, "posterize");
    require_range("posterize", "bits", bits, 0, 8);
    const int mask = ~((1 << (8 - bits)) - 1);
    Table t;
    for (int v = 0; v < 256; ++v) t[v] = v & mask;
    apply(img, t);
}

void solarize(Image& img, int threshold) {
    require_rgb(img, "solarize");
    require_range("solarize", "threshold", threshold, 0, 256);
    Table t;
    for (int v = 0; v < 256; ++v) t[v] = v < threshold ? v : 255 - v;
    apply(img, t);
}

void solarize_add(Image& img, int add, int threshold) {
    require_rgb(img, "solarize_add");
    require_range("solarize_add", "addend", add, 0, 255);
    require_range("solarize_add", "threshold", threshold, 0, 256);
    Table t;
    for (int v = 0; v < 256; ++v) t[v] = v < threshold ? std::min(255, v + add) : v;
    apply(img, t);
}

void enhance(Image& img, Enhance kind, double factor) {
    require_rgb(img, "enhance");
    if (!std::isfinite(factor)) throw std::invalid_argument("enhance: factor " + std::to_string(factor) + " (expected a finite number)");
    std::vector<std::uint8_t> degenerate(img.pixels.size(), 0);  // brightness: black
    const std::size_t pixels = img.pixels.size() / 3;
    if (kind == Enhance::color) {
        for (std::size_t i = 0; i < pixels; ++i) std::fill_n(degenerate.begin() + 3 * i, 3, luma(&img.pixels[3 * i]));
    } else if (kind == Enhance::contrast) {
        std::int64_t sum = 0;  // ImageStat's mean of the L image, plus 0.5, truncated
        for (std::size_t i = 0; i < pixels; ++i) sum += luma(&img.pixels[3 * i]);
        const double mean = pixels ? static_cast<double>(sum) / static_cast<double>(pixels) : 0.0;
        std::fill(degenerate.begin(), degenerate.end(), static_cast<std::uint8_t>(mean + 0.5));
    } else if (kind == Enhance::sharpness) {
        degenerate = smooth(img);
    }
    blend_from(img, degenerate, factor);
}

void affine(Image& img, const std::array<double, 6>& m, Filter filter, Rgb fill) {
    require_rgb(img, "affine");
    for (const double v : m)
        if (!std::isfinite(v)) throw std::invalid_argument("affine: a matrix entry " + std::to_string(v) + " (expected finite numbers)");
    const std::int64_t h = img.height, w = img.width;
    const std::vector<std::uint8_t> in = img.pixels;
    const bool cubic_filter = filter == Filter::bicubic;
    for (std::int64_t y = 0; y < h; ++y) {
        for (std::int64_t x = 0; x < w; ++x) {
            std::uint8_t* out = img.pixels.data() + (y * w + x) * 3;
            const double cx = static_cast<double>(x) + 0.5, cy = static_cast<double>(y) + 0.5;
            const double xin = (m[0] * cx + m[1] * cy) + m[2], yin = (m[3] * cx + m[4] * cy) + m[5];
            if (xin < 0.0 || xin >= static_cast<double>(w) || yin < 0.0 || yin >= static_cast<double>(h)) {
                std::copy(fill.begin(), fill.end(), out);
                continue;
            }
            const double xs = xin - 0.5, ys = yin - 0.5, fx = std::floor(xs), fy = std::floor(ys);
            const double dx = xs - fx, dy = ys - fy;
            // The taps' rows and columns, clamped to the image (Pillow reads edge pixels beyond it): bilinear
            // reads floor(s) and floor(s) + 1, bicubic floor(s) - 1 to floor(s) + 2.
            const std::int64_t first = cubic_filter ? -1 : 0, taps = cubic_filter ? 4 : 2;
            std::array<const std::uint8_t*, 4> row{};
            std::array<std::int64_t, 4> col{};
            for (std::int64_t k = 0; k < taps; ++k) {
                row[k] = in.data() + std::clamp<std::int64_t>(static_cast<std::int64_t>(fy) + first + k, 0, h - 1) * w * 3;
                col[k] = std::clamp<std::int64_t>(static_cast<std::int64_t>(fx) + first + k, 0, w - 1) * 3;
            }
            for (std::int64_t c = 0; c < 3; ++c) {
                const auto at = [&](std::int64_t r, std::int64_t k) { return static_cast<int>(row[r][col[k] + c]); };
                if (!cubic_filter) {
                    const double v1 = at(0, 0) + (at(0, 1) - at(0, 0)) * dx, v2 = at(1, 0) + (at(1, 1) - at(1, 0)) * dx;
                    out[c] = static_cast<std::uint8_t>(v1 + (v2 - v1) * dy);
                } else {
                    std::array<double, 4> rows;
                    for (std::int64_t r = 0; r < 4; ++r) rows[r] = cubic(at(r, 0), at(r, 1), at(r, 2), at(r, 3), dx);
                    const double v = cubic(rows[0], rows[1], rows[2], rows[3], dy);
                    out[c] = v <= 0.0 ? 0 : v >= 255.0 ? 255 : static_cast<std::uint8_t>(v);
                }
            }
        }
    }
}

void rotate(Image& img, double degrees, Filter filter, Rgb fill) {
    require_rgb(img, "rotate");
    if (!std::isfinite(degrees)) throw std::invalid_argument("rotate: angle " + std::to_string(degrees) + " (expected a finite number)");
    double r = std::fmod(degrees, 360.0);  // Python's angle % 360.0
    if (r < 0.0) r += 360.0;
    if (r == 0.0) return;
    const std::int64_t h = img.height, w = img.width;
    if (r == 180.0) return permute(img, [&](std::int64_t y, std::int64_t x) { return std::pair{h - 1 - y, w - 1 - x}; });
    if (r == 90.0 && w == h) return permute(img, [&](std::int64_t y, std::int64_t x) { return std::pair{x, w - 1 - y}; });
    if (r == 270.0 && w == h) return permute(img, [&](std::int64_t y, std::int64_t x) { return std::pair{h - 1 - x, y}; });
    const double t = -(r * (std::numbers::pi / 180.0)), cx = static_cast<double>(w) / 2.0, cy = static_cast<double>(h) / 2.0;
    const double a = round15(std::cos(t)), b = round15(std::sin(t)), d = round15(-std::sin(t)), e = round15(std::cos(t));
    const double c = ((a * -cx + b * -cy) + 0.0) + cx, f = ((d * -cx + e * -cy) + 0.0) + cy;
    affine(img, {a, b, c, d, e, f}, filter, fill);
}

}  // namespace bplab::pil
