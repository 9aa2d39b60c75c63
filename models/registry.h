// models/registry.h — models by name, so that the command line and experiments can ask for "vit-tiny".
// Names, sizes and input resolutions are listed in the README.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace bplab {

struct ModelOptions {
    std::int64_t classes = 1000;
    std::int64_t in_channels = 3;
    double drop_path = 0.0;
    /// Recompute LayerNorm and GELU outputs in backward instead of saving them (ViT and ConvNeXt; the MLP ignores it).
    bool recompute = false;
    std::uint64_t seed = 0;
    DType dtype = DType::f32;
    /// Input height = width; 0: the model's own (model_image_size). Must suit its patch or downsampling.
    std::int64_t image_size = 0;
};

/// The names make_model accepts.
const std::vector<std::string>& model_names();
/// Builds a model by name; throws listing the valid names otherwise.
std::unique_ptr<Model> make_model(const std::string& name, const ModelOptions& options);
/// The input resolution a model expects (224 for the ImageNet models, 28 or 32 for the small ones).
std::int64_t model_image_size(const std::string& name);

}  // namespace bplab
