// tests/test_rand_augment.cpp — RandAugment: every operation byte for byte against Pillow (tests/golden/make_rand_augment.py),
// timm's spec strings and their errors, and the per-image draws replayed on a copy of the generator.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/data/pil_ops.h"
#include "core/data/rand_augment.h"
#include "core/io/safetensors.h"

using namespace bplab;
using Catch::Matchers::Contains;

namespace {

const NamedTensors& golden() {
    static const NamedTensors g = load_safetensors(BPLAB_SOURCE_DIR "/tests/golden/rand_augment.safetensors");
    return g;
}

Image to_image(const Tensor& t) {  // (H, W, 3) values 0..255
    Image img{.height = t.size(0), .width = t.size(1), .channels = 3, .pixels = {}};
    for (const double v : t.to_vector()) img.pixels.push_back(static_cast<std::uint8_t>(v));
    return img;
}

/// How many bytes differ from Pillow's.
int differences(const Image& got, const Tensor& expected) {
    const Image want = to_image(expected);
    REQUIRE(got.pixels.size() == want.pixels.size());
    int n = 0;
    for (std::size_t i = 0; i < got.pixels.size(); ++i) n += got.pixels[i] != want.pixels[i];
    return n;
}

Filter filter_of(double code) { return code == 0 ? Filter::bilinear : Filter::bicubic; }

Image pattern(std::int64_t h, std::int64_t w, int seed) {
    Image img{.height = h, .width = w, .channels = 3, .pixels = {}};
    for (std::int64_t i = 0; i < h * w * 3; ++i) img.pixels.push_back(static_cast<std::uint8_t>((i * 37 + seed * 101 + (i / 7) * 11) % 256));
    return img;
}

}  // namespace

TEST_CASE("rand_augment: timm's level functions and Pillow's operations, byte for byte", "[data][golden]") {
    const NamedTensors& g = golden();
    REQUIRE(g.metadata.at("format") == "bplab-golden");
    int cases = 0;
    for (int i = 0; g.contains("level." + std::to_string(i) + ".spec"); ++i, ++cases) {
        const auto s = g.get("level." + std::to_string(i) + ".spec").to_vector();  // image, op, m, negate, increasing, filter
        const auto op = static_cast<AugmentOp>(static_cast<int>(s[1]));
        INFO("level case " << i << ": " << augment_op_name(op) << " m " << s[2] << (s[3] != 0 ? " negated" : "")
                           << (s[4] != 0 ? " increasing " : " original ") << filter_name(filter_of(s[5])));
        Image img = to_image(g.get("image." + std::to_string(static_cast<int>(s[0]))));
        apply_augment_op(img, op, s[2], s[3] != 0, s[4] != 0, filter_of(s[5]));
        CHECK(differences(img, g.get("level." + std::to_string(i) + ".out")) == 0);
    }
    CHECK(cases == 540);
}

TEST_CASE("pil ops: affine maps, rotations, tables and enhancers at the edges of their arguments equal Pillow's", "[data][golden]") {
    const NamedTensors& g = golden();
    const pil::Rgb fill = {10, 200, 30};
    int cases = 0;
    for (int i = 0; g.contains("pil." + std::to_string(i) + ".spec"); ++i, ++cases) {
        const auto s = g.get("pil." + std::to_string(i) + ".spec").to_vector();  // image, kind, args...
        INFO("Pillow case " << i << ": kind " << s[1] << ", first argument " << s[2]);
        Image img = to_image(g.get("image." + std::to_string(static_cast<int>(s[0]))));
        switch (static_cast<int>(s[1])) {
            case 0: pil::affine(img, {s[2], s[3], s[4], s[5], s[6], s[7]}, filter_of(s[8]), fill); break;
            case 1: pil::rotate(img, s[2], filter_of(s[3]), fill); break;
            case 2: pil::posterize(img, static_cast<int>(s[2])); break;
            case 3: pil::solarize(img, static_cast<int>(s[2])); break;
            case 4: pil::solarize_add(img, static_cast<int>(s[2]), static_cast<int>(s[3])); break;
            default: pil::enhance(img, static_cast<pil::Enhance>(static_cast<int>(s[2])), s[3]);
        }
        CHECK(differences(img, g.get("pil." + std::to_string(i) + ".out")) == 0);
    }
    CHECK(cases == 36);
}

TEST_CASE("pil ops: identities, and errors that name the operation", "[data]") {
    const Image original = pattern(9, 14, 1);
    for (const Filter f : {Filter::bilinear, Filter::bicubic}) {
        Image img = original;
        pil::affine(img, {1, 0, 0, 0, 1, 0}, f, {0, 0, 0});  // pixel centres map onto pixel centres
        CHECK(img.pixels == original.pixels);
        pil::rotate(img, 360.0, f, {0, 0, 0});
        CHECK(img.pixels == original.pixels);
    }
    for (const auto kind : {pil::Enhance::color, pil::Enhance::contrast, pil::Enhance::brightness, pil::Enhance::sharpness}) {
        Image img = original;
        pil::enhance(img, kind, 1.0);
        CHECK(img.pixels == original.pixels);
    }
    Image twice = original;
    pil::invert(twice);
    CHECK(twice.pixels != original.pixels);
    pil::invert(twice);
    CHECK(twice.pixels == original.pixels);
    Image img = original;
    REQUIRE_THROWS_WITH(pil::posterize(img, 9), "posterize: bits 9 (expected 0..8)");
    REQUIRE_THROWS_WITH(pil::solarize_add(img, 256, 128), "solarize_add: addend 256 (expected 0..255)");
    REQUIRE_THROWS_WITH(pil::solarize(img, -1), "solarize: threshold -1 (expected 0..256)");
    REQUIRE_THROWS_WITH(pil::enhance(img, pil::Enhance::color, INFINITY), Contains("enhance: factor inf (expected a finite number)"));
    REQUIRE_THROWS_WITH(pil::affine(img, {1, 0, std::nan(""), 0, 1, 0}, Filter::bilinear, {0, 0, 0}), Contains("expected finite numbers"));
    REQUIRE_THROWS_WITH(apply_augment_op(img, AugmentOp::rotate, 101.0, false, true, Filter::bicubic),
                        "RandAugment Rotate: magnitude 101 (expected 0..100)");
    Image short_of_bytes{.height = 2, .width = 2, .channels = 3, .pixels = {1, 2, 3}};
    REQUIRE_THROWS_WITH(pil::invert(short_of_bytes), "invert: 3 bytes for a 2x2 RGB image (expected height x width x 3, at least 1x1)");
    REQUIRE_THROWS_WITH(pil::rotate(img, std::nan(""), Filter::bicubic, {0, 0, 0}), Contains("expected a finite number"));
    Image grey{.height = 2, .width = 2, .channels = 1, .pixels = {1, 2, 3, 4}};
    REQUIRE_THROWS_WITH(pil::equalize(grey), "equalize: an image of 1 channels (expected RGB, 3)");
}

TEST_CASE("rand_augment: timm's spec strings, described, and refused with the reason", "[data]") {
    const RandAugment r = parse_rand_augment("rand-m9-mstd0.5-inc1", "--rand-augment");
    CHECK(r.ops == 2);
    CHECK(r.magnitude == 9.0);
    CHECK(r.magnitude_std == 0.5);
    CHECK(r.magnitude_max == 10.0);
    CHECK(r.prob == 0.5);
    CHECK(r.increasing);
    CHECK(r.describe() == "2 ops per image from 15 (increasing set), each with p 0.5, magnitude 9 ± 0.5 clipped to 0..10");
    const RandAugment o = parse_rand_augment("rand-n3-m7-p0.8-mstd101-mmax12", "x");
    CHECK(o.ops == 3);
    CHECK(o.prob == 0.8);
    CHECK(std::isinf(o.magnitude_std));
    CHECK(!o.increasing);
    CHECK(o.describe() == "3 ops per image from 15 (original set), each with p 0.8, magnitude uniform in 0..7 clipped to 0..12");
    CHECK(parse_rand_augment("rand", "x").describe() == "2 ops per image from 15 (original set), each with p 0.5, magnitude 10 clipped to 0..10");
    const auto refused = [](const std::string& spec, const std::string& why) {
        INFO(spec);
        REQUIRE_THROWS_WITH(parse_rand_augment(spec, "--rand-augment"), Contains("--rand-augment " + spec + ": " + why) && Contains("rand-m9-mstd0.5-inc1"));
    };
    refused("augmix-m5", "it does not start with 'rand'");
    refused("rand-m9-inc0", "'inc0': timm reads any inc value as inc1");
    refused("rand-w0-m9", "timm's 'w' (weighted op choice) is not supported");
    refused("rand-m9-m8", "'m' is given twice");
    refused("rand-m9-q1", "unknown key 'q'");
    refused("rand-m", "'m' is not a key followed by a number");
    refused("rand-9", "'9' is not a key followed by a number");
    refused("rand-mx", "'mx' is not a key followed by a number");
    refused("rand-m9x", "'m9x': '9x' is not a plain decimal number");
    refused("rand-m1e9", "'m1e9': '1e9' is not a plain decimal number");
    refused("rand-m101", "'m101': expected at most 100");
    refused("rand-mmax200", "'mmax200': expected at most 100");
    refused("rand-n0", "'n0': expected a whole number of ops, 1..100");
    refused("rand-n2.5", "'n2.5': expected a whole number of ops, 1..100");
    refused("rand-p1.5", "'p1.5': expected a probability, 0..1");
    refused("rand-mmax0", "'mmax0': expected a clip above 0");
    refused("rand-m9-", "'' is not a key followed by a number");
}

TEST_CASE("rand_augment: the draws of timm's order, replayed on a copy of the generator", "[data]") {
    // timm's tables: the geometric ops draw a sign in both sets, the enhancers only in the increasing one.
    const auto geometric = [](AugmentOp op) {
        return op == AugmentOp::rotate || op == AugmentOp::shear_x || op == AugmentOp::shear_y || op == AugmentOp::translate_x ||
               op == AugmentOp::translate_y;
    };
    const auto enhancer = [](AugmentOp op) {
        return op == AugmentOp::color || op == AugmentOp::contrast || op == AugmentOp::brightness || op == AugmentOp::sharpness;
    };
    // mstd 0.5 is a power of two: 9 + 0.5 * z is exact, so the test's own floating-point flags cannot change it.
    for (const std::string spec : {"rand-m9-n3-mstd0.5-inc1", "rand-m9-n3-mstd0.5", "rand-p1-m9-n3-mstd101-mmax20-inc1"}) {
        const RandAugment policy = parse_rand_augment(spec, "x");
        int applied = 0, skipped = 0, signs = 0;
        for (std::uint64_t seed = 1; seed <= 200; ++seed) {
            INFO(spec << ", seed " << seed);
            Rng rng(seed), replay(seed);
            Image got = pattern(10, 13, static_cast<int>(seed)), want = got;
            rand_augment(got, policy, Filter::bicubic, rng);
            std::vector<AugmentOp> ops;
            for (int i = 0; i < policy.ops; ++i) ops.push_back(static_cast<AugmentOp>(replay.below(15)));
            for (const AugmentOp op : ops) {
                if (policy.prob < 1.0 && replay.uniform() > policy.prob) {
                    ++skipped;
                    continue;
                }
                const double m = std::clamp(std::isinf(policy.magnitude_std) ? replay.uniform() * 9.0 : 9.0 + 0.5 * replay.normal(), 0.0,
                                            policy.magnitude_max);
                const bool draws_sign = geometric(op) || (policy.increasing && enhancer(op));
                signs += draws_sign;
                apply_augment_op(want, op, m, draws_sign && replay.uniform() > 0.5, policy.increasing, Filter::bicubic);
                ++applied;
            }
            REQUIRE(got.pixels == want.pixels);
            CHECK(rng.next_u64() == replay.next_u64());  // the same number of draws
        }
        CHECK(applied > (policy.prob < 1.0 ? 240 : 599));  // of 600: p 0.5 or 1
        CHECK(skipped == (policy.prob < 1.0 ? 600 - applied : 0));
        CHECK(signs > 50);  // about 100 (geometric ops only) or 180
    }
    Image same = pattern(6, 7, 3);
    const Image before = same;
    Rng rng(5);
    rand_augment(same, parse_rand_augment("rand-p0", "x"), Filter::bilinear, rng);
    CHECK(same.pixels == before.pixels);
}
