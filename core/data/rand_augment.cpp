// core/data/rand_augment.cpp — timm's RandAugment policy: the spec string, the level functions that turn a magnitude
// into each operation's argument, and the per-image draws. Built with -ffp-contract=off, as pil_ops.cpp is.
#include "core/data/rand_augment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/data/imagenet.h"
#include "core/data/pil_ops.h"
#include "core/round.h"

namespace bplab {
namespace {

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

/// timm's fill for rotations, shears and translations: ImageNet's mean colour in 8 bits, (124, 116, 104).
pil::Rgb mean_colour() {
    pil::Rgb fill;
    for (int c = 0; c < 3; ++c) fill[c] = static_cast<std::uint8_t>(std::min<std::int64_t>(255, round_half_even(255.0 * kImagenetMean[c])));
    return fill;
}

/// Whether timm's level function for `op` draws a random sign.
bool is_signed(AugmentOp op, bool increasing) {
    switch (op) {
        case AugmentOp::rotate: case AugmentOp::shear_x: case AugmentOp::shear_y:
        case AugmentOp::translate_x: case AugmentOp::translate_y:
            return true;
        case AugmentOp::color: case AugmentOp::contrast: case AugmentOp::brightness: case AugmentOp::sharpness:
            return increasing;
        default:
            return false;
    }
}

}  // namespace

std::string RandAugment::describe() const {
    std::string m = number(magnitude);
    if (std::isinf(magnitude_std)) m = "uniform in 0.." + m;
    else if (magnitude_std > 0) m += " ± " + number(magnitude_std);
    return std::to_string(ops) + " ops per image from " + std::to_string(kAugmentOps) + " (" + (increasing ? "increasing" : "original") +
           " set), each with p " + number(prob) +
           ", magnitude " + m + " clipped to 0.." + number(magnitude_max);
}

RandAugment parse_rand_augment(const std::string& spec, const std::string& what) {
    const auto fail = [&](const std::string& why) {
        return std::invalid_argument(what + " " + spec + ": " + why + " (expected timm's form, e.g. rand-m9-mstd0.5-inc1: rand, then " +
                                     "m<magnitude, of 10>, n<ops>, p<probability>, mstd<magnitude noise>, mmax<clip>, inc1)");
    };
    std::vector<std::string> parts;
    for (std::size_t at = 0;;) {
        const std::size_t dash = spec.find('-', at);
        parts.push_back(spec.substr(at, dash == std::string::npos ? std::string::npos : dash - at));
        if (dash == std::string::npos) break;
        at = dash + 1;
    }
    if (parts.front() != "rand") throw fail("it does not start with 'rand'");
    RandAugment r;
    r.spec = spec;
    std::vector<std::string> seen;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& part = parts[i];
        const std::size_t digits = part.find_first_not_of("abcdefghijklmnopqrstuvwxyz");
        const std::string key = part.substr(0, digits), text = digits == std::string::npos ? "" : part.substr(digits);
        if (key.empty() || text.empty()) throw fail("'" + part + "' is not a key followed by a number");
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) throw fail("'" + key + "' is given twice");
        seen.push_back(key);
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.find_first_not_of("0123456789.") != std::string::npos || end != text.c_str() + text.size())
            throw fail("'" + part + "': '" + text + "' is not a plain decimal number");
        if ((key == "m" || key == "mmax") && v > kMaxMagnitude)
            throw fail("'" + part + "': expected at most " + number(kMaxMagnitude) + " (10 is the strongest timm's levels are made for)");
        if (key == "m") {
            r.magnitude = v;
        } else if (key == "n") {
            if (v != std::floor(v) || v < 1 || v > 100) throw fail("'" + part + "': expected a whole number of ops, 1..100");
            r.ops = static_cast<int>(v);
        } else if (key == "p") {
            if (v > 1) throw fail("'" + part + "': expected a probability, 0..1");
            r.prob = v;
        } else if (key == "mstd") {
            r.magnitude_std = v > 100 ? std::numeric_limits<double>::infinity() : v;  // timm: above 100, uniform
        } else if (key == "mmax") {
            if (v == 0) throw fail("'" + part + "': expected a clip above 0");
            r.magnitude_max = v;
        } else if (key == "inc") {
            if (v != 1) throw fail("'" + part + "': timm reads any inc value as inc1; write inc1, or leave it out for the original set");
            r.increasing = true;
        } else if (key == "w") {
            throw fail("timm's 'w' (weighted op choice) is not supported");
        } else {
            throw fail("unknown key '" + key + "'");
        }
    }
    return r;
}

const char* augment_op_name(AugmentOp op) {
    const auto i = static_cast<int>(op);
    if (i < 0 || i >= kAugmentOps) return "unknown";
    static const char* const names[kAugmentOps] = {"AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize", "SolarizeAdd",
                                                   "Color", "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateXRel",
                                                   "TranslateYRel"};
    return names[i];
}

void apply_augment_op(Image& img, AugmentOp op, double m, bool negate, bool increasing, Filter filter) {
    if (!(m >= 0.0 && m <= kMaxMagnitude))
        throw std::invalid_argument(std::string("RandAugment ") + augment_op_name(op) + ": magnitude " + number(m) + " (expected 0.." +
                                    number(kMaxMagnitude) + ")");
    const double level = m / 10.0;
    const auto sign = [&](double v) { return negate ? -v : v; };
    const pil::Rgb fill = mean_colour();
    switch (op) {
        case AugmentOp::auto_contrast: return pil::auto_contrast(img);
        case AugmentOp::equalize: return pil::equalize(img);
        case AugmentOp::invert: return pil::invert(img);
        case AugmentOp::rotate: return pil::rotate(img, sign(level * 30.0), filter, fill);
        case AugmentOp::posterize: {  // bits kept: fewer as m grows in the increasing set; below 0 or above 8 as 0 or 8
            const int bits = static_cast<int>(level * 4.0);
            return pil::posterize(img, std::clamp(increasing ? 4 - bits : bits, 0, 8));
        }
        case AugmentOp::solarize: {  // threshold, clamped to 0..256 (the same images)
            const int threshold = static_cast<int>(level * 256.0);
            return pil::solarize(img, std::clamp(increasing ? 256 - threshold : threshold, 0, 256));
        }
        case AugmentOp::solarize_add:  // the addend, clamped to 255 (the same images)
            return pil::solarize_add(img, std::min(static_cast<int>(level * 110.0), 255), 128);
        case AugmentOp::color: case AugmentOp::contrast: case AugmentOp::brightness: case AugmentOp::sharpness: {
            const double factor = increasing ? std::max(0.1, 1.0 + sign(level * 0.9)) : level * 1.8 + 0.1;
            const auto kind = op == AugmentOp::color ? pil::Enhance::color : op == AugmentOp::contrast ? pil::Enhance::contrast
                              : op == AugmentOp::brightness ? pil::Enhance::brightness : pil::Enhance::sharpness;
            return pil::enhance(img, kind, factor);
        }
        case AugmentOp::shear_x: return pil::affine(img, {1, sign(level * 0.3), 0, 0, 1, 0}, filter, fill);
        case AugmentOp::shear_y: return pil::affine(img, {1, 0, 0, sign(level * 0.3), 1, 0}, filter, fill);
        case AugmentOp::translate_x: return pil::affine(img, {1, 0, sign(level * 0.45) * static_cast<double>(img.width), 0, 1, 0}, filter, fill);
        case AugmentOp::translate_y: return pil::affine(img, {1, 0, 0, 0, 1, sign(level * 0.45) * static_cast<double>(img.height)}, filter, fill);
    }
    throw std::invalid_argument("RandAugment: operation " + std::to_string(static_cast<int>(op)) + " (expected 0.." +
                                std::to_string(kAugmentOps - 1) + ")");
}

void rand_augment(Image& img, const RandAugment& policy, Filter filter, Rng& rng) {
    std::vector<AugmentOp> chosen;  // timm draws all the operations first, with replacement
    for (int i = 0; i < policy.ops; ++i) chosen.push_back(static_cast<AugmentOp>(rng.below(kAugmentOps)));
    for (const AugmentOp op : chosen) {
        if (policy.prob < 1.0 && rng.uniform() > policy.prob) continue;
        double m = policy.magnitude;
        if (std::isinf(policy.magnitude_std)) m = rng.uniform() * policy.magnitude;
        else if (policy.magnitude_std > 0) m += policy.magnitude_std * rng.normal();
        m = std::max(0.0, std::min(m, policy.magnitude_max));
        const bool negate = is_signed(op, policy.increasing) && rng.uniform() > 0.5;
        apply_augment_op(img, op, m, negate, policy.increasing, filter);
    }
}

}  // namespace bplab
