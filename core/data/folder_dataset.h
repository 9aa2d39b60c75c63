// core/data/folder_dataset.h — ImageNet's layout as a training and a test set: <dir>/train/<class>/*.JPEG and
// <dir>/val/<class>/*.JPEG, the validation classes labelled as the training ones.
#pragma once
#include <string>

#include "core/data/dataset.h"

namespace bplab {

/// Scans <dir>/train and <dir>/val (see ImageFolder); images come out image_size² RGB, channels-last, resized
/// with `filter`. Throws naming the folder when either is missing or malformed.
TrainTest load_image_folders(const std::string& dir, std::int64_t image_size, Filter filter = Filter::bilinear);

}  // namespace bplab
