// models/registry.cpp — the table of models: the timm sizes at 224² and small variants for 28²/32² images.
// Small variants: vit-mini (patch 4 on 28×28, 96 wide, 6 blocks), convnext-mini (2×2 stem on 32×32).
#include "models/registry.h"

#include <functional>
#include <stdexcept>
#include <utility>

#include "models/convnext.h"
#include "models/vit.h"

namespace bplab {
namespace {

struct Entry {
    std::string name;
    std::int64_t image_size;
    std::function<std::unique_ptr<Model>(const ModelOptions&)> make;
};

Entry vit(const std::string& name, std::int64_t image, std::int64_t patch, std::int64_t dim, std::int64_t depth, std::int64_t heads) {
    return {name, image, [=](const ModelOptions& o) {
                VitConfig c;
                c.image_size = o.image_size ? o.image_size : image;
                c.patch = patch;
                c.dim = dim;
                c.depth = depth;
                c.heads = heads;
                c.in_channels = o.in_channels;
                c.classes = o.classes;
                c.drop_path = o.drop_path;
                c.recompute = o.recompute;
                c.seed = o.seed;
                c.dtype = o.dtype;
                return std::unique_ptr<Model>(std::make_unique<Vit>(c));
            }};
}

Entry convnext(const std::string& name, std::int64_t image, std::int64_t stem, std::array<std::int64_t, 4> depths,
               std::array<std::int64_t, 4> dims) {
    return {name, image, [=](const ModelOptions& o) {
                ConvNeXtConfig c;
                c.image_size = o.image_size ? o.image_size : image;
                c.stem = stem;
                c.depths = depths;
                c.dims = dims;
                c.in_channels = o.in_channels;
                c.classes = o.classes;
                c.drop_path = o.drop_path;
                c.recompute = o.recompute;
                c.seed = o.seed;
                c.dtype = o.dtype;
                return std::unique_ptr<Model>(std::make_unique<ConvNeXt>(c));
            }};
}

const std::vector<Entry>& table() {
    static const std::vector<Entry> entries = {
        vit("vit-tiny", 224, 16, 192, 12, 3),
        vit("vit-small", 224, 16, 384, 12, 6),
        vit("vit-base", 224, 16, 768, 12, 12),
        vit("vit-mini", 28, 4, 96, 6, 3),
        convnext("convnext-atto", 224, 4, {2, 2, 6, 2}, {40, 80, 160, 320}),
        convnext("convnext-tiny", 224, 4, {3, 3, 9, 3}, {96, 192, 384, 768}),
        convnext("convnext-base", 224, 4, {3, 3, 27, 3}, {128, 256, 512, 1024}),
        convnext("convnext-mini", 32, 2, {2, 2, 4, 2}, {32, 64, 128, 256}),
    };
    return entries;
}

const Entry& find(const std::string& name) {
    for (const Entry& e : table())
        if (e.name == name) return e;
    std::string valid;
    for (const auto& n : model_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw std::invalid_argument("model '" + name + "' is unknown (expected one of: " + valid + ")");
}

}  // namespace

const std::vector<std::string>& model_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const Entry& e : table()) out.push_back(e.name);
        return out;
    }();
    return names;
}

std::unique_ptr<Model> make_model(const std::string& name, const ModelOptions& options) {
    const auto& entry = find(name);
    if (options.image_size < 0)
        throw std::invalid_argument("model " + name + ": image size " + std::to_string(options.image_size) +
                                    " (expected > 0, or 0 for the model's own)");
    if (options.classes < 2)
        throw std::invalid_argument("model " + name + ": " + std::to_string(options.classes) + " classes (expected >= 2)");
    if (options.in_channels < 1)
        throw std::invalid_argument("model " + name + ": " + std::to_string(options.in_channels) +
                                    " input channels (expected >= 1)");
    return entry.make(options);
}

std::int64_t model_image_size(const std::string& name) { return find(name).image_size; }

}  // namespace bplab
