// tests/test_augment.cpp — the training transform against a pixel-by-pixel reference: crops, pads, mirrors and
// multi-channel images, and the order of the random draws that makes an epoch's augmentation reproducible.
#include <catch2/catch.hpp>

#include "core/data/augment.h"
#include "tests/test_helpers.h"

using namespace bplab;
using bplab::test::random_tensor;

namespace {

/// The transform read off its definition, one output pixel at a time: per image, dy then dx are drawn in
/// [−pad, pad] and then the flip; output (i, j) shows image pixel (i + cy + dy, j + cx + dx), its column
/// mirrored (w − 1 − column) when flipped, or `fill` where that lies outside the image.
Tensor reference(const Tensor& x, const AugmentOptions& o, Rng& rng) {
    const std::int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3), size = o.size ? o.size : h;
    Tensor out = Tensor::empty({b, size, size, c}, DType::f32);
    const float* in = x.data<float>();
    float* o_ptr = out.data<float>();
    for (std::int64_t n = 0; n < b; ++n) {
        std::int64_t dy = 0, dx = 0;
        if (o.pad > 0) {
            dy = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
            dx = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.pad + 1))) - o.pad;
        }
        const bool flip = o.flip && rng.below(2) == 1;
        for (std::int64_t i = 0; i < size; ++i)
            for (std::int64_t j = 0; j < size; ++j)
                for (std::int64_t k = 0; k < c; ++k) {
                    const std::int64_t si = i + (h - size) / 2 + dy, col = j + (w - size) / 2 + dx;
                    const bool inside = si >= 0 && si < h && col >= 0 && col < w;
                    const std::int64_t sj = flip ? w - 1 - col : col;
                    o_ptr[((n * size + i) * size + j) * c + k] =
                        inside ? in[((n * h + si) * w + sj) * c + k] : static_cast<float>(o.fill);
                }
    }
    return out;
}

}  // namespace

TEST_CASE("augment: crops, pads and mirrors as the pixel-by-pixel reference, with the same draws", "[data]") {
    struct Case {
        std::int64_t h, w, c;
        AugmentOptions o;
    };
    const Case cases[] = {
        {28, 28, 1, {.size = 32, .pad = 2, .flip = true, .fill = -0.5}},  // pad up (convnext-mini from MNIST)
        {28, 28, 1, {.size = 224, .pad = 0, .flip = false, .fill = -1.0}},  // fit only, far from the image
        {32, 32, 3, {.size = 28, .pad = 3, .flip = true, .fill = 0.25}},    // crop down, three channels
        {9, 13, 2, {.size = 11, .pad = 8, .flip = true, .fill = 2.0}},     // offsets past the whole image
        {28, 28, 1, {.size = 0, .pad = 4, .flip = false, .fill = 0.0}},    // the input's size
    };
    for (const Case& t : cases) {
        INFO("image " << t.h << "x" << t.w << "x" << t.c << " to " << t.o.size << ", pad " << t.o.pad);
        const Tensor x = random_tensor({37, t.h, t.w, t.c}, 11, DType::f32);
        Rng mine(5), theirs(5);
        const Tensor got = augment_images(x, t.o, mine), want = reference(x, t.o, theirs);
        REQUIRE(got.shape() == want.shape());
        CHECK(bplab::test::max_abs_diff(got, want) == 0.0);
        CHECK(mine.state() == theirs.state());  // the same number of draws, so later batches match too
    }
}

TEST_CASE("augment: flips about half the images, without pad and flip it draws nothing", "[data]") {
    const Tensor x = random_tensor({64, 6, 6, 1}, 3, DType::f32);
    Rng rng(9);
    const Tensor y = augment_images(x, {.size = 6, .pad = 0, .flip = true, .fill = 0.0}, rng);
    int same = 0, mirrored = 0;
    for (std::int64_t n = 0; n < 64; ++n) {
        bool is_same = true, is_mirrored = true;
        for (std::int64_t i = 0; i < 6; ++i)
            for (std::int64_t j = 0; j < 6; ++j) {
                const float v = y.data<float>()[(n * 6 + i) * 6 + j];
                is_same &= v == x.data<float>()[(n * 6 + i) * 6 + j];
                is_mirrored &= v == x.data<float>()[(n * 6 + i) * 6 + 5 - j];
            }
        same += is_same;
        mirrored += is_mirrored;
    }
    CHECK(same + mirrored == 64);
    CHECK(same > 16);
    CHECK(mirrored > 16);
    CHECK(bplab::test::max_abs_diff(fit_images(x, 6, 0.0), x) == 0.0);
    Rng idle(12);
    const auto before = idle.state();
    augment_images(x, {.size = 8, .pad = 0, .flip = false, .fill = 0.0}, idle);
    CHECK(idle.state() == before);
}
