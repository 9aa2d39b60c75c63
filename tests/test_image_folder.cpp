// tests/test_image_folder.cpp — image folders: JPEG and PNG decoding, the resize against torch's (tests/golden/make_resize.py),
// torchvision's crop geometry, the folder scan and its errors, and batches that do not depend on thread count.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/data/folder_dataset.h"
#include "core/data/image_check.h"
#include "core/data/image_folder.h"
#include "core/io/safetensors.h"
#include "tests/test_helpers.h"

#include <png.h>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace bplab;
using Catch::Matchers::Contains;
using bplab::test::nan_max;

namespace {

Image gradient_image(std::int64_t h, std::int64_t w, std::int64_t channels) {
    Image img{.height = h, .width = w, .channels = channels, .pixels = {}};
    for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j)
            for (std::int64_t c = 0; c < channels; ++c)
                img.pixels.push_back(static_cast<std::uint8_t>(40 + (i * 150) / h + (j * 50) / w + 10 * c));
    return img;
}

Image constant_image(std::int64_t h, std::int64_t w, std::uint8_t value) {
    return {.height = h, .width = w, .channels = 3, .pixels = std::vector<std::uint8_t>(static_cast<std::size_t>(h * w * 3), value)};
}

int max_pixel_diff(const Image& a, const Image& b) {
    int worst = 0;
    for (std::size_t i = 0; i < a.pixels.size(); ++i) worst = std::max(worst, std::abs(a.pixels[i] - b.pixels[i]));
    return worst;
}

/// A PNG through libpng's simplified writer; `format` is one of its PNG_FORMAT_* layouts of `pixels`.
void write_png(const std::string& path, std::uint32_t height, std::uint32_t width, std::uint32_t format, const void* pixels) {
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    png.width = width;
    png.height = height;
    png.format = format;
    REQUIRE(png_image_write_to_file(&png, path.c_str(), 0, pixels, 0, nullptr));
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

/// <root>/<class>/<i>.JPEG for each (class, count): image i of class k is constant at 20 + 40 k + i.
void make_folder(const std::string& root, const std::vector<std::pair<std::string, int>>& classes) {
    for (std::size_t k = 0; k < classes.size(); ++k) {
        std::filesystem::create_directories(root + "/" + classes[k].first);
        for (int i = 0; i < classes[k].second; ++i)
            write_jpeg(root + "/" + classes[k].first + "/" + std::to_string(i) + ".JPEG",
                       constant_image(20 + i, 30 - i, static_cast<std::uint8_t>(20 + 40 * k + static_cast<std::size_t>(i))));
    }
}

}  // namespace

TEST_CASE("image files: a smooth JPEG survives a quality-100 round trip, grey comes back as three equal channels", "[data]") {
    bplab::test::TempDir dir;
    const Image rgb = gradient_image(23, 31, 3);
    write_jpeg(dir.path("rgb.jpg"), rgb, 100);
    const Image back = read_image(dir.path("rgb.jpg"));
    REQUIRE(back.height == 23);
    REQUIRE(back.width == 31);
    REQUIRE(back.channels == 3);
    CHECK(max_pixel_diff(back, rgb) <= 3);

    const Image grey = gradient_image(9, 12, 1);
    write_jpeg(dir.path("grey.jpg"), grey, 100);
    const Image g = read_image(dir.path("grey.jpg"));
    REQUIRE(g.channels == 3);
    int worst = 0;
    for (std::int64_t p = 0; p < 9 * 12; ++p) {
        CHECK(g.pixels[static_cast<std::size_t>(3 * p)] == g.pixels[static_cast<std::size_t>(3 * p + 1)]);
        CHECK(g.pixels[static_cast<std::size_t>(3 * p)] == g.pixels[static_cast<std::size_t>(3 * p + 2)]);
        worst = std::max(worst, std::abs(g.pixels[static_cast<std::size_t>(3 * p)] - grey.pixels[static_cast<std::size_t>(p)]));
    }
    CHECK(worst <= 2);
}

TEST_CASE("image files: a PNG is read by its content, whatever its name, alpha is dropped", "[data]") {
    bplab::test::TempDir dir;
    std::vector<std::uint8_t> rgba;
    for (int p = 0; p < 5 * 7; ++p) rgba.insert(rgba.end(), {std::uint8_t(p), std::uint8_t(3 * p), std::uint8_t(255 - p), std::uint8_t(7 * p)});
    write_png(dir.path("png.JPEG"), 5, 7, PNG_FORMAT_RGBA, rgba.data());
    const Image img = read_image(dir.path("png.JPEG"));
    REQUIRE(img.height == 5);
    REQUIRE(img.width == 7);
    REQUIRE(img.channels == 3);
    for (std::size_t p = 0; p < 35; ++p)
        for (std::size_t c = 0; c < 3; ++c) CHECK(img.pixels[3 * p + c] == rgba[4 * p + c]);
}

TEST_CASE("image files: a 16-bit PNG marked linear keeps its high bytes: no gamma or colour conversion, as PIL", "[data]") {
    bplab::test::TempDir dir;
    std::vector<std::uint16_t> rgb;  // libpng's simplified writer stores these with gAMA 1.0 (linear light)
    for (int p = 0; p < 4 * 6 * 3; ++p) rgb.push_back(static_cast<std::uint16_t>((p * 2741 + 513) % 65536));
    write_png(dir.path("deep.png"), 4, 6, PNG_FORMAT_LINEAR_RGB, rgb.data());
    const Image img = read_image(dir.path("deep.png"));
    REQUIRE(img.pixels.size() == rgb.size());
    for (std::size_t i = 0; i < rgb.size(); ++i) CHECK(img.pixels[i] == rgb[i] >> 8);
}

TEST_CASE("image files: truncated, broken, oversized and other files are refused by name, with the reason", "[data]") {
    bplab::test::TempDir dir;
    write_jpeg(dir.path("whole.jpg"), gradient_image(300, 300, 3));  // its tables take the first ~600 bytes
    std::ifstream in(dir.path("whole.jpg"), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_bytes(dir.path("cut.jpg"), bytes.substr(0, bytes.size() * 3 / 4));
    REQUIRE_THROWS_WITH(read_image(dir.path("cut.jpg")), Contains(dir.path("cut.jpg")) && Contains("the JPEG is truncated"));
    // The frame header (SOF0: FF C0, length, precision, height, width) claiming 65000 x 65000 pixels.
    std::string huge = bytes;
    const auto sof = huge.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    huge[sof + 5] = huge[sof + 7] = static_cast<char>(0xFD);
    huge[sof + 6] = huge[sof + 8] = static_cast<char>(0xE8);
    write_bytes(dir.path("huge.jpg"), huge);
    REQUIRE_THROWS_WITH(read_image(dir.path("huge.jpg")), Contains("65000 x 65000 pixels (expected at most 178956970"));
    write_bytes(dir.path("png.jpg"), std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, '\0'));
    REQUIRE_THROWS_WITH(read_image(dir.path("png.jpg")), Contains("not a readable PNG"));
    std::vector<std::uint8_t> noise(static_cast<std::size_t>(40 * 50 * 3));
    for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(i * 7919 % 251);
    write_png(dir.path("whole.png"), 40, 50, PNG_FORMAT_RGB, noise.data());
    std::ifstream png_in(dir.path("whole.png"), std::ios::binary);
    const std::string png((std::istreambuf_iterator<char>(png_in)), std::istreambuf_iterator<char>());
    write_bytes(dir.path("cut.png"), png.substr(0, png.size() / 2));
    REQUIRE_THROWS_WITH(read_image(dir.path("cut.png")), Contains(dir.path("cut.png")) && Contains("the PNG is truncated"));
    write_bytes(dir.path("jpeg.jpg"), std::string("\xFF\xD8\xFF", 3) + std::string(64, 'x'));
    REQUIRE_THROWS_WITH(read_image(dir.path("jpeg.jpg")), Contains("not a readable JPEG"));
    write_bytes(dir.path("empty.jpg"), "");
    REQUIRE_THROWS_WITH(read_image(dir.path("empty.jpg")), Contains("the file is empty"));
    write_bytes(dir.path("gif.jpg"), "GIF89a......");
    REQUIRE_THROWS_WITH(read_image(dir.path("gif.jpg")), Contains("a GIF file"));
    write_bytes(dir.path("text.jpg"), "hello, this is not an image");
    REQUIRE_THROWS_WITH(read_image(dir.path("text.jpg")), Contains("neither a JPEG nor a PNG file (it starts with 0x68 0x65)"));
    REQUIRE_THROWS_WITH(read_image(dir.path("none.jpg")), Contains("cannot open"));
    REQUIRE_THROWS_WITH(write_jpeg(dir.path("bad.jpg"), Image{.height = 2, .width = 2, .channels = 2, .pixels = {}}),
                        Contains("expected 1 or 3 channels"));
}

TEST_CASE("resize: antialiased bilinear and bicubic equal torch's interpolate(antialias=True), and bicubic PIL's", "[data][golden]") {
    const NamedTensors g = load_safetensors(BPLAB_SOURCE_DIR "/tests/golden/resize.safetensors");
    REQUIRE(g.metadata.at("format") == "bplab-golden");
    const Tensor image = g.get("image");  // (37, 53, 3) integer values
    Image src{.height = 37, .width = 53, .channels = 3, .pixels = {}};
    for (const double v : image.to_vector()) src.pixels.push_back(static_cast<std::uint8_t>(v));
    for (const char* kind : {"down", "up", "mixed", "eval", "flip"}) {
        for (const std::string& name : {std::string(kind), std::string(kind) + "_bicubic"}) {
            INFO(name);
            const auto p = g.get(name + ".plan").to_vector();
            const ResizeCrop plan{.top = std::int64_t(p[0]), .left = std::int64_t(p[1]), .height = std::int64_t(p[2]),
                                  .width = std::int64_t(p[3]), .resized_height = std::int64_t(p[4]), .resized_width = std::int64_t(p[5]),
                                  .out_top = std::int64_t(p[6]), .out_left = std::int64_t(p[7]), .out_height = std::int64_t(p[8]),
                                  .out_width = std::int64_t(p[9]), .flip = p[10] != 0};
            const Filter filter = p[11] == 0 ? Filter::bilinear : Filter::bicubic;
            const auto expected = g.get(name + ".out").to_vector();
            std::vector<float> out(expected.size());
            resize_crop(src, plan, out.data(), filter);
            double worst = 0.0;
            for (std::size_t i = 0; i < out.size(); ++i) worst = nan_max(worst, std::abs(out[i] - expected[i]));
            CHECK(worst < 2e-4);  // of 0..255: float32 sums against torch's float64
            if (filter == Filter::bicubic) {  // PIL rounds each pass to 8 bits; we keep floats
                const auto pil = g.get(name + ".pil").to_vector();
                double off = 0.0;
                for (std::size_t i = 0; i < out.size(); ++i) off = nan_max(off, std::abs(out[i] - pil[i]));
                CHECK(off <= 1.0);
            }
        }
    }
    CHECK(parse_filter("bicubic", "--interpolation") == Filter::bicubic);
    CHECK(std::string(filter_name(Filter::bilinear)) == "bilinear");
    REQUIRE_THROWS_WITH(parse_filter("nearest", "--interpolation"), "--interpolation nearest: expected bilinear or bicubic");
}

TEST_CASE("resize: a constant image stays constant, and a window resized to its own size is copied", "[data]") {
    const Image flat = constant_image(13, 17, 77);
    std::vector<float> out(9 * 9 * 3);
    resize_crop(flat, {.top = 1, .left = 2, .height = 11, .width = 5, .resized_height = 9, .resized_width = 20,
                       .out_top = 0, .out_left = 6, .out_height = 9, .out_width = 9, .flip = true}, out.data());
    for (const float v : out) CHECK(v == Approx(77.0f).margin(1e-4));
    const Image img = gradient_image(13, 17, 3);
    std::vector<float> same(4 * 6 * 3);
    resize_crop(img, {.top = 3, .left = 5, .height = 4, .width = 6, .resized_height = 4, .resized_width = 6,
                      .out_top = 0, .out_left = 0, .out_height = 4, .out_width = 6, .flip = false}, same.data());
    for (std::int64_t i = 0; i < 4; ++i)
        for (std::int64_t j = 0; j < 6; ++j)
            for (std::int64_t c = 0; c < 3; ++c)
                CHECK(same[static_cast<std::size_t>((i * 6 + j) * 3 + c)] == img.pixels[static_cast<std::size_t>(((3 + i) * 17 + 5 + j) * 3 + c)]);
    REQUIRE_THROWS_WITH(resize_crop(img, {.top = 10, .left = 0, .height = 4, .width = 6, .resized_height = 4, .resized_width = 6,
                                          .out_top = 0, .out_left = 0, .out_height = 4, .out_width = 6, .flip = false}, same.data()),
                        Contains("expected every window inside its image"));
}

TEST_CASE("random_resized_crop: torchvision's bounds on area and aspect, inside the image, both flips", "[data]") {
    int flips = 0, draws = 0;
    for (const auto& [h, w] : std::vector<std::pair<std::int64_t, std::int64_t>>{{375, 500}, {500, 333}, {224, 224}, {31, 40}}) {
        for (std::uint64_t seed = 0; seed < 300; ++seed, ++draws) {
            Rng rng(seed);
            const ResizeCrop c = random_resized_crop(h, w, 224, rng);
            INFO(h << "x" << w << " seed " << seed << ": " << c.height << "x" << c.width << " at " << c.top << "," << c.left);
            CHECK(c.top >= 0);
            CHECK(c.left >= 0);
            CHECK(c.top + c.height <= h);
            CHECK(c.left + c.width <= w);
            CHECK(c.resized_height == 224);
            CHECK(c.out_height == 224);
            CHECK(c.out_width == 224);
            const double area = static_cast<double>(c.height * c.width) / static_cast<double>(h * w);
            const double ratio = static_cast<double>(c.width) / static_cast<double>(c.height);
            // Side lengths are rounded, so the bounds hold up to a pixel's worth on each side.
            const double slack = 1.0 / static_cast<double>(std::min(c.height, c.width));
            CHECK(area <= 1.0);
            CHECK(area >= 0.08 * (1 - 2 * slack) * (1 - 2 * slack));
            CHECK(ratio >= 0.75 * (1 - 2 * slack));
            CHECK(ratio <= 4.0 / 3.0 * (1 + 2 * slack));
            flips += c.flip;
        }
    }
    CHECK(flips > draws / 3);
    CHECK(flips < 2 * draws / 3);
    // No draw fits a 10 x 400 strip: the fallback crops it to 4:3, centred.
    Rng rng(1);
    const ResizeCrop strip = random_resized_crop(10, 400, 32, rng);
    CHECK(strip.height == 10);
    CHECK(strip.width == 13);
    CHECK(strip.left == (400 - 13) / 2);
}

TEST_CASE("random_erase: timm's box bounds, N(0, 1) noise inside, nothing outside, with probability p", "[data]") {
    const std::int64_t size = 40;
    double sum = 0.0, sum2 = 0.0, count = 0.0;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
        std::vector<float> img(static_cast<std::size_t>(size * size * 3), 0.0f);
        Rng rng(seed);
        random_erase(img.data(), size, 1.0, rng);
        std::int64_t top = size, bottom = -1, left = size, right = -1, erased = 0;
        for (std::int64_t i = 0; i < size; ++i)
            for (std::int64_t j = 0; j < size; ++j) {
                const float* px = img.data() + (i * size + j) * 3;
                if (px[0] == 0.0f && px[1] == 0.0f && px[2] == 0.0f) continue;
                CHECK((px[0] != 0.0f && px[1] != 0.0f && px[2] != 0.0f));  // noise in every channel of an erased pixel
                top = std::min(top, i), bottom = std::max(bottom, i), left = std::min(left, j), right = std::max(right, j);
                ++erased;
            }
        if (erased == 0) continue;  // ten draws that did not fit (rare for a square image)
        const std::int64_t h = bottom - top + 1, w = right - left + 1;
        INFO("seed " << seed << ": " << h << "x" << w << " at " << top << "," << left);
        CHECK(erased == h * w);  // one filled rectangle
        CHECK(h < size);
        CHECK(w < size);
        const double slack = 1.0 / static_cast<double>(std::min(h, w));
        const double share = static_cast<double>(h * w) / static_cast<double>(size * size);
        CHECK(share >= 0.02 * (1 - 2 * slack) * (1 - 2 * slack));
        CHECK(share <= (1.0 / 3.0) * (1 + 2 * slack) * (1 + 2 * slack));
        CHECK(static_cast<double>(h) / static_cast<double>(w) >= 0.3 * (1 - 2 * slack));
        CHECK(static_cast<double>(h) / static_cast<double>(w) <= (1 / 0.3) * (1 + 2 * slack));
        for (const float v : img) {
            if (v == 0.0f) continue;
            sum += v, sum2 += double(v) * v, count += 1;
        }
    }
    REQUIRE(count > 10000);
    CHECK(sum / count == Approx(0.0).margin(0.05));
    CHECK(sum2 / count == Approx(1.0).epsilon(0.05));
    // p = 0 draws nothing and changes nothing; p = 0.25 erases about a quarter of the images.
    std::vector<float> img(static_cast<std::size_t>(size * size * 3), 0.5f);
    Rng rng(1), replay(1);
    random_erase(img.data(), size, 0.0, rng);
    CHECK(rng.next_u64() == replay.next_u64());
    for (const float v : img) CHECK(v == 0.5f);
    int erased = 0;
    for (int i = 0; i < 2000; ++i) {
        std::vector<float> one(static_cast<std::size_t>(size * size * 3), 0.5f);
        random_erase(one.data(), size, 0.25, rng);
        erased += std::count(one.begin(), one.end(), 0.5f) != static_cast<std::ptrdiff_t>(one.size());
    }
    CHECK(erased == Approx(500).margin(60));
}

TEST_CASE("resize_center_crop: Resize(size / 0.875) of the shorter side, then the centre", "[data]") {
    const ResizeCrop a = resize_center_crop(375, 500, 224);  // ImageNet's commonest shape
    CHECK(a.resized_height == 256);
    CHECK(a.resized_width == 341);  // int(256 * 500 / 375)
    CHECK(a.out_top == 16);
    CHECK(a.out_left == 58);        // round(117 / 2) = round(58.5), to even
    CHECK(a.height == 375);
    CHECK(a.width == 500);
    const ResizeCrop b = resize_center_crop(500, 333, 224);
    CHECK(b.resized_width == 256);
    CHECK(b.resized_height == 384);  // int(256 * 500 / 333) = int(384.38)
    CHECK(b.out_top == 80);
    CHECK(b.out_left == 16);
}

TEST_CASE("image folder: classes in name order, image names only (subfolders too), validation labelled as training", "[data]") {
    bplab::test::TempDir dir;
    make_folder(dir.path("d/train"), {{"zebra", 2}, {"ant", 3}});
    make_folder(dir.path("d/val"), {{"zebra", 1}});
    write_bytes(dir.path("d/train/ant/notes.txt"), "not an image");
    write_bytes(dir.path("d/train/ant/._0.JPEG"), "macOS's resource fork, not an image");
    std::filesystem::create_directories(dir.path("d/train/.cache"));
    std::filesystem::create_directories(dir.path("d/train/ant/.thumbs"));
    write_jpeg(dir.path("d/train/ant/.thumbs/0.jpg"), constant_image(9, 9, 1));  // hidden folder: not searched
    std::filesystem::create_directories(dir.path("d/train/ant/sub"));
    write_jpeg(dir.path("d/train/ant/sub/deep.jpeg"), constant_image(9, 9, 1));
    const TrainTest d = load_image_folders(dir.path("d/"), 8);
    REQUIRE(d.train.files);
    CHECK(d.train.name == "d/train");
    CHECK(d.train.files->classes() == std::vector<std::string>{"ant", "zebra"});
    CHECK(d.train.size() == 6);  // with the one in ant/sub
    CHECK(d.train.files->file(3) == dir.path("d/train/ant/sub/deep.jpeg"));
    CHECK(d.test.size() == 1);
    CHECK(d.test.files->classes() == d.train.files->classes());
    const Batch val = make_batch(d.test, Tensor::from_indices({0}, {1}));
    CHECK(val.y.to_vector() == std::vector<double>{1.0});  // zebra is class 1 in both
    REQUIRE(val.x.shape() == Shape{1, 8, 8, 3});
    // A constant grey image of value v (20: zebra is first in make_folder's list) comes out as (v / 255 - mean) / std.
    const auto x = val.x.to_vector();
    for (std::size_t p = 0; p < x.size(); ++p)
        CHECK(x[p] == Approx((20.0 / 255.0 - kImagenetMean[p % 3]) / kImagenetStd[p % 3]).margin(2.0 / 255.0 / 0.224));
}

TEST_CASE("image folder: a missing, empty or mislabelled folder is refused by name", "[data]") {
    bplab::test::TempDir dir;
    REQUIRE_THROWS_WITH(ImageFolder(dir.path("none"), 8), Contains("'" + dir.path("none") + "' does not exist"));
    std::filesystem::create_directories(dir.path("empty"));
    REQUIRE_THROWS_WITH(ImageFolder(dir.path("empty"), 8), Contains("has no class folders"));
    make_folder(dir.path("t"), {{"a", 1}});
    std::filesystem::create_directories(dir.path("t/b"));
    REQUIRE_THROWS_WITH(ImageFolder(dir.path("t"), 8), Contains("class folder 'b' holds no .jpg, .jpeg or .png file"));
    make_folder(dir.path("v"), {{"c", 1}});
    REQUIRE_THROWS_WITH(ImageFolder(dir.path("v"), 8, {"a", "b"}), Contains("'c' is not one of the 2 training classes"));
    REQUIRE_THROWS_WITH(load_image_folders(dir.path("t"), 8), Contains("train' does not exist"));
    write_bytes(dir.path("v/c/1.jpg"), "broken");
    const ImageFolder v(dir.path("v"), 8);
    REQUIRE_THROWS_WITH(v.load({0, 1}), Contains(dir.path("v/c/1.jpg")) && Contains("neither a JPEG nor a PNG"));
    REQUIRE_THROWS_WITH(v.load({2}), Contains("example 2 (it has 2)"));
}

TEST_CASE("image folder: a training batch depends on its seeds, not on the number of threads", "[data]") {
    bplab::test::TempDir dir;
    std::filesystem::create_directories(dir.path("f/k"));
    for (int i = 0; i < 6; ++i) write_jpeg(dir.path("f/k/" + std::to_string(i) + ".jpg"), gradient_image(30 + 7 * i, 50 - 3 * i, 3));
    const ImageFolder f(dir.path("f"), 16);
    const std::vector<std::int64_t> idx{5, 0, 3, 3, 1, 2, 4};
    const std::vector<std::uint64_t> seeds{11, 12, 13, 14, 15, 16, 17};
    const TrainAugment augment{.rand_augment = parse_rand_augment("rand-m9-mstd0.5-inc1", "test"), .erase_prob = 0.25};
    const Tensor one = f.load(idx, seeds, augment, 1).x, two = f.load(idx, seeds, augment, 2).x;
    CHECK(bplab::test::max_abs_diff(one, two) == 0.0);
    // The same image under two seeds (entries 2 and 3) is cropped differently; without seeds, identically.
    const auto per = static_cast<std::int64_t>(16 * 16 * 3);
    const auto v = one.to_vector();
    double differ = 0.0;
    for (std::int64_t p = 0; p < per; ++p) differ = std::max(differ, std::abs(v[static_cast<std::size_t>(2 * per + p)] - v[static_cast<std::size_t>(3 * per + p)]));
    CHECK(differ > 0.1);
    const auto e = f.load(idx).x.to_vector();
    for (std::int64_t p = 0; p < per; ++p) CHECK(e[static_cast<std::size_t>(2 * per + p)] == e[static_cast<std::size_t>(3 * per + p)]);
}

TEST_CASE("image folder: RandAugment runs on the crop rounded to 8 bits, after the flip and before normalising", "[data]") {
    bplab::test::TempDir dir;
    std::filesystem::create_directories(dir.path("f/k"));
    const Image source = gradient_image(40, 57, 3);
    write_jpeg(dir.path("f/k/a.jpg"), source);
    const ImageFolder f(dir.path("f"), 20, {}, Filter::bicubic);
    const RandAugment policy = parse_rand_augment("rand-m9-n3-mstd0.5-inc1", "test");
    for (const std::uint64_t seed : {3ULL, 4ULL, 5ULL, 6ULL}) {
        INFO("seed " << seed);
        const auto got = f.load({0}, {seed}, {.rand_augment = policy, .erase_prob = 0.0}).x.to_vector();
        Rng rng(seed);
        std::vector<float> crop(20 * 20 * 3);
        resize_crop(read_image(dir.path("f/k/a.jpg")), random_resized_crop(40, 57, 20, rng), crop.data(), Filter::bicubic);
        Image img{.height = 20, .width = 20, .channels = 3, .pixels = {}};
        for (const float v : crop) img.pixels.push_back(static_cast<std::uint8_t>(std::lround(v)));
        rand_augment(img, policy, Filter::bicubic, rng);
        double worst = 0.0;
        for (std::size_t p = 0; p < crop.size(); ++p)
            worst = nan_max(worst, std::abs(got[p] - (img.pixels[p] / 255.0 - kImagenetMean[p % 3]) / kImagenetStd[p % 3]));
        CHECK(worst < 1e-5);
    }
}

TEST_CASE("check_images: every unreadable file in file order with its reason, the smallest image, any thread count", "[data]") {
    bplab::test::TempDir dir;
    std::filesystem::create_directories(dir.path("f/a"));
    std::filesystem::create_directories(dir.path("f/b"));
    for (int i = 0; i < 300; ++i)  // more than one chunk
        write_jpeg(dir.path("f/a/" + std::to_string(1000 + i) + ".jpg"), gradient_image(9 + i % 7, 12 + i % 5, 3));
    write_jpeg(dir.path("f/b/small.jpg"), gradient_image(5, 8, 3));
    write_bytes(dir.path("f/a/1100.jpg"), "not an image");
    write_jpeg(dir.path("f/b/whole.jpg"), gradient_image(300, 300, 3));  // its tables take the first ~600 bytes
    std::string bytes;
    {
        std::ifstream in(dir.path("f/b/whole.jpg"), std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    write_bytes(dir.path("f/b/cut.jpg"), bytes.substr(0, bytes.size() * 3 / 4));
    const ImageFolder f(dir.path("f"), 8);
    std::vector<std::int64_t> progress;
    const ImageCheck one = check_images(f, 1, [&](std::int64_t done, std::int64_t total) {
        CHECK(total == 303);
        progress.push_back(done);
    });
    CHECK(progress == std::vector<std::int64_t>{256, 303});
    CHECK(one.checked == 303);
    REQUIRE(one.unreadable.size() == 2);
    CHECK(one.unreadable[0].file == dir.path("f/a/1100.jpg"));
    CHECK_THAT(one.unreadable[0].reason, Contains("neither a JPEG nor a PNG"));
    CHECK(one.unreadable[1].file == dir.path("f/b/cut.jpg"));
    CHECK_THAT(one.unreadable[1].reason, Contains("truncated"));
    CHECK(one.smallest_file == dir.path("f/b/small.jpg"));
    CHECK((one.smallest_height == 5 && one.smallest_width == 8));
    const ImageCheck two = check_images(f, 2);
    REQUIRE(two.unreadable.size() == one.unreadable.size());
    for (std::size_t i = 0; i < one.unreadable.size(); ++i) {
        CHECK(two.unreadable[i].file == one.unreadable[i].file);
        CHECK(two.unreadable[i].reason == one.unreadable[i].reason);
    }
    CHECK(two.smallest_file == one.smallest_file);
    write_jpeg(dir.path("f/b/small2.jpg"), gradient_image(8, 5, 3));  // as short, later in file order: not taken
    CHECK(check_images(ImageFolder(dir.path("f"), 8), 2).smallest_file == dir.path("f/b/small.jpg"));
}
