// Generates a synthetic "reported-media store": COUNT JPEG files that look
// like photos to a decoder, for end-to-end scan benchmarks (hashmatch hash -r
// over a directory tree) without shipping or downloading real images.
//
// Each picture is multi-scale structure (plane waves per channel, soft-edged
// rotated rectangles and ellipses with their own gradients, faint small marks
// at a fixed density per pixel) plus per-pixel noise, so the entropy decoder
// sees about the bits per pixel of a camera JPEG (~1.9 at 640x480 q85, ~1.7
// at 4000x3000) and PDQ sees real gradients. About 1 in 20 is greyscale, as
// in real stores. Everything is a pure function of (seed, index), so a store
// is reproducible whatever the thread count.
//
// Usage: hm_make_store DIR COUNT [--size WxH] [--per-dir N] [--seed S]
//                      [--quality Q] [--threads T]
#include <setjmp.h>
#include <stdio.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <jpeglib.h>

namespace {

namespace fs = std::filesystem;

constexpr int kMaxDimension = 65500;  // JPEG's limit per side
constexpr size_t kNoiseTable = 1 << 20;  // long enough that rows never visibly repeat
constexpr int kGreyOneIn = 20;        // share of greyscale images
constexpr uint64_t kPixelsPerDetail = 2500;  // density of the small marks
constexpr int kMinFileDigits = 7;     // img-0042137.jpg
constexpr int kMinDirDigits = 4;      // 0042/
constexpr float kPi = 3.14159265358979f;

const char kUsage[] =
    "usage: hm_make_store DIR COUNT [--size WxH] [--per-dir N] [--seed S]\n"
    "                     [--quality Q] [--threads T]\n"
    "  Writes COUNT synthetic photo-like JPEGs under DIR (created if missing),\n"
    "  at most N per subdirectory DIR/0042/img-0042137.jpg (N = 0: all in DIR).\n"
    "  Defaults: --size 640x480 --per-dir 1000 --seed 1 --quality 85\n"
    "            --threads all cores. The same seed gives the same files.\n";

/// The command line, validated.
struct Options {
  fs::path dir;
  uint64_t count = 0;
  int width = 640;
  int height = 480;
  uint64_t per_dir = 1000;
  uint64_t seed = 1;
  int quality = 85;
  int threads = 0;  // 0: hardware_concurrency
};

/// splitmix64: tiny, fast, and identical on every platform (the standard
/// distributions are not), so a seed names the same store everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi).
  float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(next() >> 40) * 0x1p-24f; }
  /// Uniform in [0, n).
  uint32_t below(uint32_t n) { return (uint32_t)(((next() >> 32) * n) >> 32); }

 private:
  uint64_t state_;
};

/// A plane wave cos(kx*x + ky*y + phase) added with a per-channel amplitude.
struct Wave {
  float kx, ky, phase;
  float amp[3];
};

/// A soft-edged rotated rectangle or ellipse, filled with a linear gradient
/// along its own u axis and alpha-blended over what lies below.
struct Shape {
  bool ellipse;
  float cx, cy, rx, ry;   // centre and half-axes, pixels
  float cos_a, sin_a;     // rotation
  float edge;             // width of the soft edge, pixels
  float opacity;
  float color[3], grad[3];  // colour at the centre, change from u = 0 to u = rx
  int y0, y1;               // rows touched, inclusive
  float reach;              // bound on the distance from the centre it touches
};

/// Everything that decides one picture's pixels.
struct Scene {
  int channels;  // 3 (RGB, encoded as YCbCr 4:2:0) or 1
  float base[3];
  std::vector<Wave> waves;
  std::vector<Shape> shapes;
  float noise;  // peak of the triangular per-pixel noise, in grey levels
};

/// Draws a colour, each channel in [0, 255) (greyscale uses channel 0 only).
void random_color(Rng& rng, float out[3]) {
  for (int c = 0; c < 3; ++c) out[c] = rng.uniform(0, 255);
}

/// Waves from half a cycle to 80 cycles across the frame, with amplitude
/// falling with frequency as in natural images.
void add_waves(Rng& rng, int width, int height, Scene& scene) {
  const int n = 6 + (int)rng.below(6);
  const float span = (float)std::max(width, height);
  for (int i = 0; i < n; ++i) {
    const float cycles = std::exp(rng.uniform(std::log(0.5f), std::log(80.0f)));
    const float angle = rng.uniform(0, 2 * kPi);
    const float k = 2 * kPi * cycles / span;
    Wave w{k * std::cos(angle), k * std::sin(angle), rng.uniform(0, 2 * kPi), {}};
    const float amp = rng.uniform(20, 60) / std::sqrt(cycles);
    const float luma = rng.uniform(0.6f, 1.0f) * amp;
    for (int c = 0; c < 3; ++c) w.amp[c] = luma + rng.uniform(-0.4f, 0.4f) * amp;
    scene.waves.push_back(w);
  }
}

/// A shape of about radius r (pixels) anywhere in the frame.
Shape random_shape(Rng& rng, int width, int height, float r, float min_opacity) {
  Shape s{};
  s.ellipse = rng.below(2) == 0;
  s.cx = rng.uniform(0, (float)width);
  s.cy = rng.uniform(0, (float)height);
  s.rx = std::max(1.0f, r * rng.uniform(0.4f, 1.6f));
  s.ry = std::max(1.0f, r * rng.uniform(0.4f, 1.6f));
  const float angle = rng.uniform(0, kPi);
  s.cos_a = std::cos(angle);
  s.sin_a = std::sin(angle);
  // Mostly crisp edges, as in focused photos, some blurred ones.
  const float blur = std::exp(rng.uniform(std::log(0.005f), std::log(0.3f)));
  s.edge = std::max(0.7f, std::min(s.rx, s.ry) * blur);
  s.opacity = rng.uniform(min_opacity, 1.0f);
  random_color(rng, s.color);
  for (int c = 0; c < 3; ++c) s.grad[c] = rng.uniform(-60, 60);
  s.reach = std::hypot(s.rx, s.ry) + s.edge;
  s.y0 = std::max(0, (int)std::floor(s.cy - s.reach));
  s.y1 = std::min(height - 1, (int)std::ceil(s.cy + s.reach));
  return s;
}

/// The objects of the picture: from half the frame down to a few pixels
/// across (log-uniform in size), a count independent of the resolution.
void add_objects(Rng& rng, int width, int height, Scene& scene) {
  const int n = 10 + (int)rng.below(70);
  const float small = (float)std::min(width, height);
  for (int i = 0; i < n; ++i) {
    const float r = std::exp(rng.uniform(std::log(0.005f), std::log(0.5f))) * small;
    scene.shapes.push_back(random_shape(rng, width, height, r, 0.5f));
  }
}

/// Faint small marks at a fixed density per pixel, so that a 12 MP picture
/// has as much fine detail per pixel as a thumbnail (real photos do, and the
/// entropy decoder's work follows it), not a blown-up thumbnail's blur.
void add_details(Rng& rng, int width, int height, Scene& scene) {
  const uint64_t n = (uint64_t)width * (uint64_t)height / kPixelsPerDetail;
  for (uint64_t i = 0; i < n; ++i) {
    const float r = std::exp(rng.uniform(std::log(1.5f), std::log(12.0f)));
    Shape s = random_shape(rng, width, height, r, 0.0f);
    s.opacity *= 0.5f;
    scene.shapes.push_back(s);
  }
}

/// The scene for image `index` of the store seeded `seed`.
Scene make_scene(uint64_t seed, uint64_t index, int width, int height) {
  Rng rng(seed * 0xD1B54A32D192ED03ull ^ (index + 1) * 0x9E3779B97F4A7C15ull);
  rng.next();
  Scene scene;
  scene.channels = rng.below(kGreyOneIn) == 0 ? 1 : 3;
  random_color(rng, scene.base);
  for (float& b : scene.base) b = 64 + b / 2;  // keep waves mostly in range
  add_waves(rng, width, height, scene);
  add_objects(rng, width, height, scene);
  add_details(rng, width, height, scene);
  scene.noise = rng.uniform(6, 24);
  return scene;
}

/// Triangular noise in [-1, 1], shared by every image: kNoiseTable values
/// plus room for the widest row, so any offset below kNoiseTable is valid.
const std::vector<float>& noise_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(kNoiseTable + kMaxDimension);
    Rng rng(0x6E6F697365ull);
    for (float& v : t) {
      const uint64_t r = rng.next();
      v = (float)((int)(r & 0xffff) + (int)((r >> 16) & 0xffff) - 0xffff) / 65535.0f;
    }
    return t;
  }();
  return table;
}

/// Renders a scene one row at a time (the encoder streams rows, so a 12 MP
/// picture never lives in memory whole). Not thread-safe: one per worker.
class Painter {
 public:
  Painter(const Scene& scene, int width, uint64_t noise_seed)
      : scene_(scene), width_(width), noise_(noise_seed) {
    const size_t w = (size_t)width;
    col_cos_.resize(scene.waves.size() * w);
    col_sin_.resize(scene.waves.size() * w);
    // cos(a + b) = cos a cos b - sin a sin b: per-column tables leave two
    // multiplies per wave per pixel instead of a cosine.
    for (size_t i = 0; i < scene.waves.size(); ++i)
      for (size_t x = 0; x < w; ++x) {
        col_cos_[i * w + x] = std::cos(scene.waves[i].kx * (float)x);
        col_sin_[i * w + x] = std::sin(scene.waves[i].kx * (float)x);
      }
    for (auto& plane : planes_) plane.resize(scene.channels == 3 ? w : 0);
    planes_[0].resize(w);
    alpha_.resize(w);
    t_.resize(w);
    bytes_.resize(w);
    out_.resize(w * (size_t)scene.channels);
  }

  /// Row y as interleaved 8-bit samples, [width * channels].
  const unsigned char* row(int y) {
    fill_background(y);
    for (const Shape& s : scene_.shapes)
      if (y >= s.y0 && y <= s.y1) paint_shape(s, y);
    quantize_with_noise();
    return out_.data();
  }

 private:
  void fill_background(int y) {
    const size_t w = (size_t)width_;
    const int channels = scene_.channels;
    for (int c = 0; c < channels; ++c) std::fill(planes_[c].begin(), planes_[c].end(), scene_.base[c]);
    for (size_t i = 0; i < scene_.waves.size(); ++i) {
      const Wave& wave = scene_.waves[i];
      const float b = wave.ky * (float)y + wave.phase;
      const float cb = std::cos(b), sb = std::sin(b);
      const float* cx = &col_cos_[i * w];
      const float* sx = &col_sin_[i * w];
      float* p0 = planes_[0].data();
      if (channels == 1) {
        const float a0 = wave.amp[0];
        for (size_t x = 0; x < w; ++x) p0[x] += a0 * (cx[x] * cb - sx[x] * sb);
        continue;
      }
      // All three channels in one pass: the loop is bound by loads and stores.
      float* p1 = planes_[1].data();
      float* p2 = planes_[2].data();
      const float a0 = wave.amp[0], a1 = wave.amp[1], a2 = wave.amp[2];
      for (size_t x = 0; x < w; ++x) {
        const float v = cx[x] * cb - sx[x] * sb;
        p0[x] += a0 * v;
        p1[x] += a1 * v;
        p2[x] += a2 * v;
      }
    }
  }

  /// Blends shape s into row y over the columns it covers. Split into an
  /// alpha pass and a blend pass with no branches inside, so both vectorise.
  void paint_shape(const Shape& s, int y) {
    const float dy = (float)y - s.cy;
    int x0, x1;
    if (!row_span(s, dy, x0, x1)) return;
    const int n = x1 - x0 + 1;
    if (s.ellipse)
      ellipse_coverage(s, (float)x0 - s.cx, dy, n);
    else
      rect_coverage(s, (float)x0 - s.cx, dy, n);
    const float* alpha = alpha_.data();
    const float* t = t_.data();
    for (int c = 0; c < scene_.channels; ++c) {
      float* p = planes_[c].data() + x0;
      const float color = s.color[c], grad = s.grad[c];
      for (int i = 0; i < n; ++i) p[i] += alpha[i] * (color + grad * t[i] - p[i]);
    }
  }

  /// alpha_[i] and t_[i] for the n pixels from dx0 on: coverage with the
  /// soft edge inside the border, and u / rx for the fill gradient.
  void ellipse_coverage(const Shape& s, float dx0, float dy, int n) {
    // Locals, not s.*: stores to alpha could alias the shape's floats, which
    // would stop the loop from vectorising.
    const float inv_rx = 1.0f / s.rx, inv_ry = 1.0f / s.ry, ca = s.cos_a, sa = s.sin_a;
    const float opacity = s.opacity;
    // (1 - d) * min radius approximates the distance inside the border.
    const float scale = std::min(s.rx, s.ry) / s.edge;
    float* alpha = alpha_.data();
    float* t = t_.data();
    for (int i = 0; i < n; ++i) {  // int, not size_t: SSE2 converts only int32 to float
      const float dx = dx0 + (float)i;
      const float u = (dx * ca + dy * sa) * inv_rx;
      const float v = (dy * ca - dx * sa) * inv_ry;
      alpha[i] = unit_clamp((1.0f - std::sqrt(u * u + v * v)) * scale) * opacity;
      t[i] = u;
    }
  }

  void rect_coverage(const Shape& s, float dx0, float dy, int n) {
    const float rx = s.rx, ry = s.ry, ca = s.cos_a, sa = s.sin_a, opacity = s.opacity;
    const float inv_rx = 1.0f / rx, sharp = 1.0f / s.edge;
    float* alpha = alpha_.data();
    float* t = t_.data();
    for (int i = 0; i < n; ++i) {  // int, not size_t: SSE2 converts only int32 to float
      const float dx = dx0 + (float)i;
      const float u = dx * ca + dy * sa;
      const float v = dy * ca - dx * sa;
      const float au = u < 0 ? -u : u, av = v < 0 ? -v : v;
      const float inside = rx - au < ry - av ? rx - au : ry - av;
      alpha[i] = unit_clamp(inside * sharp) * opacity;
      t[i] = u * inv_rx;
    }
  }

  /// x clamped to [0, 1], written as selects so that GCC vectorises it.
  static float unit_clamp(float x) {
    x = x < 0.0f ? 0.0f : x;
    return x > 1.0f ? 1.0f : x;
  }

  /// Columns [x0, x1] of the row dy below the centre that the shape covers:
  /// the roots of the ellipse's quadratic in dx, or the overlap of the
  /// rectangle's two slabs. False when the row misses the shape.
  bool row_span(const Shape& s, float dy, int& x0, int& x1) const {
    float lo, hi;
    const float c = s.cos_a, sn = s.sin_a;
    if (s.ellipse) {
      const float irx2 = 1.0f / (s.rx * s.rx), iry2 = 1.0f / (s.ry * s.ry);
      const float a = c * c * irx2 + sn * sn * iry2;
      const float b = 2 * c * sn * dy * (irx2 - iry2);
      const float k = dy * dy * (sn * sn * irx2 + c * c * iry2) - 1;
      const float disc = b * b - 4 * a * k;
      if (disc < 0) return false;
      const float root = std::sqrt(disc);
      lo = (-b - root) / (2 * a);
      hi = (-b + root) / (2 * a);
    } else {
      lo = -s.reach;
      hi = s.reach;
      // |u| <= rx with u = c*dx + sn*dy; |v| <= ry with v = -sn*dx + c*dy.
      if (!clip_slab(c, sn * dy, s.rx, lo, hi) || !clip_slab(-sn, c * dy, s.ry, lo, hi)) return false;
    }
    x0 = std::max(0, (int)std::floor(s.cx + lo));
    x1 = std::min(width_ - 1, (int)std::ceil(s.cx + hi));
    return x0 <= x1;
  }

  /// Narrows [lo, hi] to the dx where |a*dx + b| <= r.
  static bool clip_slab(float a, float b, float r, float& lo, float& hi) {
    if (std::fabs(a) < 1e-6f) return std::fabs(b) <= r;
    float e0 = (-r - b) / a, e1 = (r - b) / a;
    if (e0 > e1) std::swap(e0, e1);
    lo = std::max(lo, e0);
    hi = std::min(hi, e1);
    return lo <= hi;
  }

  /// Adds noise (mostly shared across channels, like sensor luma noise) and
  /// rounds to bytes. Each row reads the noise table at random offsets: a
  /// per-pixel generator would cost more than the rest of the painting.
  void quantize_with_noise() {
    const std::vector<float>& table = noise_table();
    const uint32_t offsets = (uint32_t)(table.size() - (size_t)width_);
    const float* shared = &table[noise_.below(offsets)];
    const size_t w = (size_t)width_, channels = (size_t)scene_.channels;
    const float amp = scene_.noise, own_amp = scene_.noise * 0.3f;
    for (size_t c = 0; c < channels; ++c) {
      const float* own = &table[noise_.below(offsets)];
      const float* p = planes_[c].data();
      unsigned char* q = channels == 1 ? out_.data() : bytes_.data();
      for (size_t x = 0; x < w; ++x) {
        // Round, then clamp as integers: the float min/max kept this scalar.
        const int v = (int)(p[x] + amp * shared[x] + own_amp * own[x] + 0.5f);
        q[x] = (unsigned char)std::min(std::max(v, 0), 255);
      }
      if (channels == 1) continue;
      // Interleave separately: a strided store would keep the loop above scalar.
      unsigned char* out = out_.data() + c;
      for (size_t x = 0; x < w; ++x) out[x * 3] = q[x];
    }
  }

  const Scene& scene_;
  int width_;
  Rng noise_;
  std::vector<float> col_cos_, col_sin_;  // [waves, width]
  std::vector<float> planes_[3];          // one row per channel, [width]
  std::vector<float> alpha_, t_;          // one shape's coverage and gradient, [width]
  std::vector<unsigned char> bytes_;      // one channel's row, [width]
  std::vector<unsigned char> out_;        // [width * channels]
};

struct JpegError {
  jpeg_error_mgr base;
  jmp_buf jump;
};

void on_jpeg_error(j_common_ptr cinfo) { longjmp(reinterpret_cast<JpegError*>(cinfo->err)->jump, 1); }

/// Encodes the painter's rows to `out`; on failure returns libjpeg's message.
/// Nothing with a destructor lives in this frame: longjmp skips destructors.
bool encode_jpeg(FILE* out, Painter& painter, int width, int height, int channels, int quality,
                 char message[JMSG_LENGTH_MAX]) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = on_jpeg_error;
  if (setjmp(err.jump)) {
    err.base.format_message(reinterpret_cast<j_common_ptr>(&cinfo), message);
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, out);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);  // YCbCr 4:2:0 for RGB input
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  for (int y = 0; y < height; ++y) {
    JSAMPROW row = const_cast<JSAMPROW>(painter.row(y));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

/// Number of decimal digits of n (at least 1).
int digits(uint64_t n) {
  int d = 1;
  while (n >= 10) n /= 10, ++d;
  return d;
}

/// Where file `index` goes: zero-padded so byte order equals numeric order.
class Layout {
 public:
  explicit Layout(const Options& o) : dir_(o.dir), per_dir_(o.per_dir) {
    const uint64_t last = o.count ? o.count - 1 : 0;
    file_digits_ = std::max(kMinFileDigits, digits(last));
    dir_digits_ = std::max(kMinDirDigits, digits(per_dir_ ? last / per_dir_ : 0));
  }
  uint64_t dir_count(uint64_t count) const {
    return per_dir_ ? count / per_dir_ + (count % per_dir_ != 0) : 0;
  }
  fs::path subdir(uint64_t d) const { return dir_ / padded(d, dir_digits_); }
  fs::path file(uint64_t index) const {
    const std::string name = "img-" + padded(index, file_digits_) + ".jpg";
    return per_dir_ ? subdir(index / per_dir_) / name : dir_ / name;
  }

 private:
  static std::string padded(uint64_t n, int width) {
    std::string s = std::to_string(n);
    return std::string((size_t)std::max(0, width - (int)s.size()), '0') + s;
  }
  fs::path dir_;
  uint64_t per_dir_;
  int file_digits_, dir_digits_;
};

/// Writes one image; returns its size in bytes, or sets `error`.
uint64_t write_image(const Options& o, const Layout& layout, uint64_t index, std::string& error) {
  const fs::path path = layout.file(index);
  const Scene scene = make_scene(o.seed, index, o.width, o.height);
  Painter painter(scene, o.width, o.seed ^ (index * 0xA24BAED4963EE407ull));
  FILE* out = fopen(path.c_str(), "wb");
  if (!out) {
    error = path.string() + ": " + strerror(errno);
    return 0;
  }
  char message[JMSG_LENGTH_MAX] = {};
  const bool encoded = encode_jpeg(out, painter, o.width, o.height, scene.channels, o.quality, message);
  const long size = encoded ? ftell(out) : -1;
  const bool closed = fclose(out) == 0;
  if (!encoded || size < 0 || !closed) {
    error = path.string() + ": " + (encoded ? std::string(strerror(errno)) : std::string(message));
    std::error_code ignored;
    fs::remove(path, ignored);  // no truncated JPEG left behind to skew a scan
    return 0;
  }
  return (uint64_t)size;
}

/// Creates DIR and its subdirectories up front, so workers only write files.
bool make_dirs(const Options& o, const Layout& layout) {
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) {
    fprintf(stderr, "hm_make_store: %s: %s\n", o.dir.c_str(), ec.message().c_str());
    return false;
  }
  for (uint64_t d = 0; d < layout.dir_count(o.count); ++d) {
    const fs::path sub = layout.subdir(d);
    fs::create_directory(sub, ec);
    if (ec) {
      fprintf(stderr, "hm_make_store: %s: %s\n", sub.c_str(), ec.message().c_str());
      return false;
    }
  }
  return true;
}

/// Parses a whole decimal number in [lo, hi].
bool parse_uint(const char* text, uint64_t lo, uint64_t hi, uint64_t& out) {
  if (!*text || *text == '-' || *text == '+') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = strtoull(text, &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool parse_size(const char* text, int& width, int& height) {
  const char* x = strchr(text, 'x');
  if (!x) return false;
  const std::string w(text, x);
  uint64_t wv, hv;
  if (!parse_uint(w.c_str(), 1, kMaxDimension, wv) || !parse_uint(x + 1, 1, kMaxDimension, hv))
    return false;
  width = (int)wv;
  height = (int)hv;
  return true;
}

/// Fills `o` from argv; prints what is wrong and returns false on misuse.
bool parse_args(int argc, char** argv, Options& o) {
  std::vector<const char*> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    uint64_t v = 0;
    bool ok = true;
    if (arg == "-h" || arg == "--help") {
      fputs(kUsage, stdout);
      exit(0);
    } else if (arg == "--size" && has_value) {
      ok = parse_size(argv[++i], o.width, o.height);
    } else if (arg == "--per-dir" && has_value) {
      ok = parse_uint(argv[++i], 0, UINT64_MAX, o.per_dir);
    } else if (arg == "--seed" && has_value) {
      ok = parse_uint(argv[++i], 0, UINT64_MAX, o.seed);
    } else if (arg == "--quality" && has_value) {
      ok = parse_uint(argv[++i], 1, 100, v);
      o.quality = (int)v;
    } else if (arg == "--threads" && has_value) {
      ok = parse_uint(argv[++i], 1, 4096, v);
      o.threads = (int)v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      fprintf(stderr, "hm_make_store: unknown option or missing value: %s\n", arg.c_str());
      return false;
    } else {
      positional.push_back(argv[i]);
    }
    if (!ok) {
      fprintf(stderr, "hm_make_store: bad value for %s: %s\n", arg.c_str(), argv[i]);
      return false;
    }
  }
  if (positional.size() != 2) {
    fprintf(stderr, "hm_make_store: expected DIR and COUNT\n");
    return false;
  }
  o.dir = positional[0];
  if (!parse_uint(positional[1], 0, UINT64_MAX, o.count)) {
    fprintf(stderr, "hm_make_store: bad COUNT: %s\n", positional[1]);
    return false;
  }
  if (o.threads == 0) o.threads = (int)std::max(1u, std::thread::hardware_concurrency());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) {
    fputs(kUsage, stderr);
    return 2;
  }
  const Layout layout(o);
  const auto start = std::chrono::steady_clock::now();
  if (!make_dirs(o, layout)) return 1;

  std::atomic<uint64_t> next{0}, bytes{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string first_error;
  std::vector<std::thread> pool;
  const int threads = (int)std::min<uint64_t>((uint64_t)o.threads, std::max<uint64_t>(1, o.count));
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      std::string error;
      for (uint64_t i; !failed && (i = next++) < o.count;) {
        bytes += write_image(o, layout, i, error);
        if (error.empty()) continue;
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!failed.exchange(true)) first_error = error;
      }
    });
  for (auto& t : pool) t.join();
  if (failed) {
    fprintf(stderr, "hm_make_store: %s\n", first_error.c_str());
    return 1;
  }

  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double per_file = o.count ? (double)bytes / (double)o.count : 0;
  printf("wrote %llu files (%dx%d, q%d), %llu bytes (%.0f bytes/file, %.2f bits/pixel) in %.3f s "
         "(%.1f files/s, %d threads)\n",
         (unsigned long long)o.count, o.width, o.height, o.quality, (unsigned long long)bytes.load(),
         per_file, per_file * 8 / ((double)o.width * o.height), s, o.count / std::max(s, 1e-9),
         threads);
  return 0;
}
