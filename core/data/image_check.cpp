// core/data/image_check.cpp — decodes a folder's images in parallel chunks and keeps, per file, only whether it
// could be read and its size; nothing else stays in memory.
#include "core/data/image_check.h"

#include <algorithm>
#include <exception>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace bplab {

ImageCheck check_images(const ImageFolder& folder, int threads, const std::function<void(std::int64_t, std::int64_t)>& on_progress) {
    constexpr std::int64_t kChunk = 256;
    const std::int64_t total = folder.size();
    ImageCheck out;
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#else
    (void)threads;
#endif
    for (std::int64_t first = 0; first < total; first += kChunk) {
        const std::int64_t n = std::min(kChunk, total - first);
        std::vector<std::string> errors(static_cast<std::size_t>(n));
        std::vector<std::int64_t> heights(static_cast<std::size_t>(n), 0), widths(static_cast<std::size_t>(n), 0);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
        for (std::int64_t i = 0; i < n; ++i) {
            const auto k = static_cast<std::size_t>(i);
            try {
                const Image image = read_image(folder.file(first + i));
                heights[k] = image.height;
                widths[k] = image.width;
            } catch (const std::exception& e) {
                errors[k] = e.what();
                if (errors[k].empty()) errors[k] = "unreadable";
            }
        }
        for (std::int64_t i = 0; i < n; ++i) {
            const auto k = static_cast<std::size_t>(i);
            if (!errors[k].empty()) {
                out.unreadable.push_back({folder.file(first + i), errors[k]});
            } else if (out.smallest_file.empty() ||
                       std::min(heights[k], widths[k]) < std::min(out.smallest_height, out.smallest_width)) {
                out.smallest_height = heights[k];
                out.smallest_width = widths[k];
                out.smallest_file = folder.file(first + i);
            }
        }
        out.checked = first + n;
        if (on_progress) on_progress(out.checked, total);
    }
    return out;
}

}  // namespace bplab
