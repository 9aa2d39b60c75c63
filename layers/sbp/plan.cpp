// layers/sbp/plan.cpp — parsing of SBP options, block selection and keep-ratio schedules.
// Errors name the option and the text that could not be read.
#include "layers/sbp/plan.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace bplab::sbp {
namespace {

std::int64_t parse_count(const std::string& text, const std::string& item) {
    try {
        std::size_t used = 0;
        const long long v = std::stoll(text, &used);
        if (used == text.size() && v >= 0 && v < (1LL << 40)) return v;  // far past any model's blocks, no overflow
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("--sbp-blocks: '" + item + "': expected a non-negative integer, got '" + text + "'");
}

}  // namespace

AttnMode parse_attn_mode(const std::string& text) {
    if (text == "qkv") return AttnMode::qkv;
    if (text == "qkv-exact") return AttnMode::qkv_exact;
    if (text == "query") return AttnMode::query;
    if (text == "head") return AttnMode::head;
    throw std::invalid_argument("--sbp-attn " + text + ": expected qkv, qkv-exact, query or head");
}

const char* attn_mode_name(AttnMode mode) {
    switch (mode) {
        case AttnMode::qkv: return "qkv";
        case AttnMode::qkv_exact: return "qkv-exact";
        case AttnMode::query: return "query";
        case AttnMode::head: return "head";
    }
    return "?";
}

RatioSchedule parse_ratio_schedule(const std::string& text) {
    if (text == "uniform") return RatioSchedule::uniform;
    if (text == "increasing") return RatioSchedule::increasing;
    if (text == "decreasing") return RatioSchedule::decreasing;
    throw std::invalid_argument("--sbp-schedule " + text + ": expected uniform, increasing or decreasing");
}

const char* ratio_schedule_name(RatioSchedule schedule) {
    switch (schedule) {
        case RatioSchedule::uniform: return "uniform";
        case RatioSchedule::increasing: return "increasing";
        case RatioSchedule::decreasing: return "decreasing";
    }
    return "?";
}

std::vector<bool> select_blocks(const std::string& spec, const std::vector<std::int64_t>& stage_sizes) {
    std::int64_t total = 0;
    std::vector<std::int64_t> offset;
    for (auto s : stage_sizes) offset.push_back(total), total += s;
    std::vector<bool> on(static_cast<std::size_t>(total), false);
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        std::string body = item;
        std::int64_t base = 0, count = total;
        if (item.size() > 1 && item[0] == 's' && item.find('/') != std::string::npos) {
            const std::int64_t stage = parse_count(item.substr(1, item.find('/') - 1), item);
            if (stage >= static_cast<std::int64_t>(stage_sizes.size()))
                throw std::invalid_argument("--sbp-blocks: '" + item + "': the model has " + std::to_string(stage_sizes.size()) + " stages");
            base = offset[static_cast<std::size_t>(stage)];
            count = stage_sizes[static_cast<std::size_t>(stage)];
            body = item.substr(item.find('/') + 1);
        }
        std::int64_t from = 0, to = 0;  // [from, to) within the scope
        if (body == "all") from = 0, to = count;
        else if (body == "none") from = to = 0;
        else if (body.rfind("first:", 0) == 0) from = 0, to = parse_count(body.substr(6), item);
        else if (body.rfind("last:", 0) == 0) to = count, from = count - parse_count(body.substr(5), item);
        else if (body.find('-') != std::string::npos) {
            from = parse_count(body.substr(0, body.find('-')), item);
            to = parse_count(body.substr(body.find('-') + 1), item) + 1;
        } else {
            from = parse_count(body, item);
            to = from + 1;
        }
        if (from > to)
            throw std::invalid_argument("--sbp-blocks: '" + item + "' runs backwards (expected FROM-TO with FROM <= TO)");
        if (from < 0 || to > count)
            throw std::invalid_argument("--sbp-blocks: '" + item + "' is out of range (" + std::to_string(count) + " blocks there)");
        for (std::int64_t i = from; i < to; ++i) on[static_cast<std::size_t>(base + i)] = true;
    }
    return on;
}

std::vector<double> block_ratios(double mean, RatioSchedule schedule, std::int64_t n) {
    check_keep_ratio(mean, "--sbp-keep");
    std::vector<double> r(static_cast<std::size_t>(n), mean);
    if (schedule == RatioSchedule::uniform || n < 2) return r;
    const double d = 0.5 * std::min(mean, 1.0 - mean);
    for (std::int64_t i = 0; i < n; ++i) {
        const double t = 2.0 * static_cast<double>(i) / static_cast<double>(n - 1) - 1.0;  // −1 .. 1
        r[static_cast<std::size_t>(i)] = mean + (schedule == RatioSchedule::increasing ? d : -d) * t;
    }
    return r;
}

std::string describe(const SbpConfig& c, const std::vector<bool>& selected, bool attention) {
    const auto n = static_cast<std::int64_t>(std::count(selected.begin(), selected.end(), true));
    std::string text = "keep " + ratio_text(c.keep) + " on " + (n ? std::to_string(n) : std::string("none")) + " of " +
                       std::to_string(selected.size()) + " blocks";
    if (n == 0) return text + " (no block is split)";
    if (c.schedule == RatioSchedule::uniform || n < 2) {
        text += "; " + to_string(c.mask) + " mask keeps " + kept_share(c.mask, c.keep);
    } else {
        const auto r = block_ratios(c.keep, c.schedule, n);
        text += std::string("; keep ratios ") + ratio_schedule_name(c.schedule) + " from " + ratio_text(r.front()) + " to " +
                ratio_text(r.back()) + " over the blocks (" + to_string(c.mask) + " mask)";
    }
    if (c.independent) text += "; a mask per block";
    if (attention) text += std::string("; attention ") + attn_mode_name(c.attn) + (c.split_proj ? ", output projection split" : "");
    return text;
}

SbpConfig make_config(double keep, const std::string& mask, const std::string& blocks, const std::string& schedule,
                      bool independent, const std::string& attn, bool split_proj) {
    check_keep_ratio(keep, "--sbp-keep");
    SbpConfig c;
    c.keep = keep;
    c.mask = parse_mask_kind(mask);
    c.blocks = blocks;
    c.schedule = parse_ratio_schedule(schedule);
    c.independent = independent;
    c.attn = parse_attn_mode(attn);
    c.split_proj = split_proj;
    return c;
}

}  // namespace bplab::sbp
