// core/data/image_check.h — every image of a folder decoded once, before a long run: the files that cannot be read
// (which would stop training when their batch comes) and the smallest image, found in minutes, not mid-epoch.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/data/image_folder.h"

namespace bplab {

struct UnreadableImage {
    std::string file, reason;  ///< reason: read_image's message
};

struct ImageCheck {
    std::int64_t checked = 0;
    std::vector<UnreadableImage> unreadable;  ///< in file order
    std::int64_t smallest_height = 0, smallest_width = 0;  ///< of the readable image with the shortest side
    std::string smallest_file;                               ///< (the first such in file order); empty if none
};

/// Decodes every image of `folder` on `threads` OpenMP threads (0: the default), in chunks, calling
/// `on_progress(done, total)` on the caller's thread after each. The result does not depend on the threads.
ImageCheck check_images(const ImageFolder& folder, int threads = 0,
                        const std::function<void(std::int64_t, std::int64_t)>& on_progress = {});

}  // namespace bplab
