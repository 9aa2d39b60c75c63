// core/data/resize.cpp — separable resampling: each output pixel is a normalised sum of the source pixels under
// a triangle or cubic filter widened by max(scale, 1), first along rows (only the source rows that the kept output
// reads), then along columns.
#include "core/data/resize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace bplab {
namespace {

/// For output positions first..first+count of a resize from `in` to `out` samples: the source taps of each,
/// starting at start[i], count[i] of them, weights at weights[i * width].
struct Taps {
    std::vector<std::int64_t> start, count;
    std::vector<float> weights;
    std::int64_t width = 0;
};

/// The filter's weight at distance x (in source pixels, unwidened) and its radius.
double filter_weight(Filter f, double x) {
    x = std::abs(x);
    if (f == Filter::bilinear) return x < 1.0 ? 1.0 - x : 0.0;
    constexpr double a = -0.5;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}
double filter_radius(Filter f) { return f == Filter::bilinear ? 1.0 : 2.0; }

Taps filter_taps(Filter f, std::int64_t in, std::int64_t out, std::int64_t first, std::int64_t n) {
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    const double filter_scale = std::max(scale, 1.0), support = filter_radius(f) * filter_scale;
    Taps t;
    t.width = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
    t.start.resize(static_cast<std::size_t>(n));
    t.count.resize(static_cast<std::size_t>(n));
    t.weights.assign(static_cast<std::size_t>(n * t.width), 0.0f);
    std::vector<double> w(static_cast<std::size_t>(t.width));
    for (std::int64_t i = 0; i < n; ++i) {
        const double center = (static_cast<double>(first + i) + 0.5) * scale;
        const auto lo = std::max<std::int64_t>(static_cast<std::int64_t>(center - support + 0.5), 0);
        const auto hi = std::min<std::int64_t>(static_cast<std::int64_t>(center + support + 0.5), in);
        double sum = 0.0;
        for (std::int64_t k = lo; k < hi; ++k) {
            sum += w[static_cast<std::size_t>(k - lo)] = filter_weight(f, (static_cast<double>(k) - center + 0.5) / filter_scale);
        }
        t.start[static_cast<std::size_t>(i)] = lo;
        t.count[static_cast<std::size_t>(i)] = hi - lo;
        for (std::int64_t k = 0; k < hi - lo; ++k)
            t.weights[static_cast<std::size_t>(i * t.width + k)] = static_cast<float>(sum > 0 ? w[static_cast<std::size_t>(k)] / sum : 0.0);
    }
    return t;
}

bool inside(std::int64_t first, std::int64_t n, std::int64_t total) { return first >= 0 && n >= 1 && first + n <= total; }

}  // namespace

const char* filter_name(Filter f) { return f == Filter::bilinear ? "bilinear" : "bicubic"; }

Filter parse_filter(const std::string& text, const std::string& what) {
    if (text == "bilinear") return Filter::bilinear;
    if (text == "bicubic") return Filter::bicubic;
    throw std::invalid_argument(what + " " + text + ": expected bilinear or bicubic");
}

void resize_crop(const Image& src, const ResizeCrop& p, float* out, Filter filter) {
    if (!inside(p.top, p.height, src.height) || !inside(p.left, p.width, src.width) ||
        !inside(p.out_top, p.out_height, p.resized_height) || !inside(p.out_left, p.out_width, p.resized_width))
        throw std::invalid_argument("resize: window " + std::to_string(p.height) + "x" + std::to_string(p.width) + " at (" +
                                    std::to_string(p.top) + ", " + std::to_string(p.left) + ") of a " + std::to_string(src.height) +
                                    "x" + std::to_string(src.width) + " image, kept " + std::to_string(p.out_height) + "x" +
                                    std::to_string(p.out_width) + " at (" + std::to_string(p.out_top) + ", " +
                                    std::to_string(p.out_left) + ") of " + std::to_string(p.resized_height) + "x" +
                                    std::to_string(p.resized_width) + " (expected every window inside its image)");
    const std::int64_t c = src.channels;
    const Taps rows = filter_taps(filter, p.height, p.resized_height, p.out_top, p.out_height);
    const Taps cols = filter_taps(filter, p.width, p.resized_width, p.out_left, p.out_width);
    // Pass 1, along each source row the kept output reads: (rows_used, out_width, c).
    const std::int64_t row_lo = rows.start.front(), row_hi = rows.start.back() + rows.count.back();
    std::vector<float> tmp(static_cast<std::size_t>((row_hi - row_lo) * p.out_width * c));
    for (std::int64_t r = row_lo; r < row_hi; ++r) {
        const std::uint8_t* line = src.pixels.data() + ((p.top + r) * src.width + p.left) * c;
        float* dst = tmp.data() + (r - row_lo) * p.out_width * c;
        for (std::int64_t j = 0; j < p.out_width; ++j) {
            const float* w = cols.weights.data() + j * cols.width;
            const std::uint8_t* s = line + cols.start[static_cast<std::size_t>(j)] * c;
            const std::int64_t jj = p.flip ? p.out_width - 1 - j : j;
            for (std::int64_t ch = 0; ch < c; ++ch) {
                float acc = 0.0f;
                for (std::int64_t k = 0; k < cols.count[static_cast<std::size_t>(j)]; ++k) acc += w[k] * static_cast<float>(s[k * c + ch]);
                dst[jj * c + ch] = filter == Filter::bicubic ? std::clamp(acc, 0.0f, 255.0f) : acc;
            }
        }
    }
    // Pass 2, down each column.
    const std::int64_t row_len = p.out_width * c;
    for (std::int64_t i = 0; i < p.out_height; ++i) {
        const float* w = rows.weights.data() + i * rows.width;
        const float* s = tmp.data() + (rows.start[static_cast<std::size_t>(i)] - row_lo) * row_len;
        float* dst = out + i * row_len;
        std::fill(dst, dst + row_len, 0.0f);
        for (std::int64_t k = 0; k < rows.count[static_cast<std::size_t>(i)]; ++k)
            for (std::int64_t x = 0; x < row_len; ++x) dst[x] += w[k] * s[k * row_len + x];
        if (filter == Filter::bicubic)
            for (std::int64_t x = 0; x < row_len; ++x) dst[x] = std::clamp(dst[x], 0.0f, 255.0f);
    }
}

}  // namespace bplab
