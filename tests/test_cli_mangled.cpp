// A mangled corpus: over 10,000 broken files made from the decoder fixtures
// (truncations, bit flips, absurd header dimensions, one format's magic on
// another's body, empty and 1-byte files, random bytes, wrong extensions),
// hashed in one `hashmatch hash -r` run. Every file must get exactly one
// record, the scan must finish (no crash, no hang) with exit status 1, and
// every error must name the stage that failed.
#include <random>
#include <set>

#include "cli_test_support.hpp"

using namespace cli_test;

namespace {

constexpr int kFiles = 10'240;

/// A fixture: its bytes and its format's extension.
struct Source {
  std::string bytes;
  std::string ext;
};

std::vector<Source> fixtures() {
  std::vector<Source> sources;
  for (const char* sub : {"/decode", "/decode-jpeg"}) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(std::string(HM_TEST_DATA) + sub)) paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());  // directory order is not deterministic
    for (const auto& p : paths) {
      const std::string ext = p.extension().string();
      if (ext == ".jpg" || ext == ".png" || ext == ".webp" || ext == ".gif" || ext == ".bmp")
        sources.push_back({read_bytes(p.string()), ext});
    }
  }
  return sources;
}

uint32_t crc32(const std::string& bytes, size_t begin, size_t end) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = begin; i < end; ++i) {
    crc ^= (uint8_t)bytes[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put_be32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = (char)(v >> (24 - 8 * i));
}

/// Sets the header's width and height fields to huge values (65535 or more
/// per side), keeping the header otherwise valid where that is cheap (PNG's
/// IHDR CRC is recomputed), so the decoder reaches its pixel-limit check.
void huge_dimensions(std::string& s, const std::string& ext) {
  auto set = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n && i < s.size(); ++i) s[i] = (char)0xFF;
  };
  if (ext == ".png" && s.size() >= 33) {
    put_be32(s, 16, 65535);
    put_be32(s, 20, 65535);
    put_be32(s, 29, crc32(s, 12, 29));
  } else if (ext == ".gif") {
    set(6, 4);  // logical screen
    for (size_t i = 13; i + 9 < s.size(); ++i)  // the first image descriptor, roughly
      if (s[i] == ',') { set(i + 5, 4); break; }
  } else if (ext == ".bmp") {
    set(18, 3);  // width 0x00FFFFFF, height 0x00FFFFFF (bottom-up)
    set(22, 3);
  } else if (ext == ".webp") {
    set(24, 6);  // VP8X canvas; in a simple VP8/VP8L file, its frame header
  } else {       // JPEG: every SOFn's height and width
    for (size_t i = 2; i + 9 < s.size(); ++i) {
      const uint8_t m = (uint8_t)s[i + 1];
      if ((uint8_t)s[i] == 0xFF && m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
        set(i + 5, 4);
    }
  }
}

}  // namespace

TEST(CliMangled, EveryFileGetsOneRecordAndTheScanGoesOn) {
  // A fixed seed keeps the corpus the same from run to run; HM_MANGLED_SEED
  // explores others.
  const char* env_seed = getenv("HM_MANGLED_SEED");
  const uint32_t seed = env_seed ? (uint32_t)strtoul(env_seed, nullptr, 10) : 20240601u;
  SCOPED_TRACE("seed " + std::to_string(seed));
  printf("mangled corpus seed: %u\n", seed);
  std::mt19937 rng(seed);
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : (size_t)(rng() % n); };
  const std::vector<Source> sources = fixtures();
  ASSERT_GT(sources.size(), 50u);
  const std::vector<std::string> exts = {".jpg", ".png", ".webp", ".gif", ".bmp", ".txt", ""};

  TempDir dir;
  std::set<std::string> files;
  for (int i = 0; i < kFiles; ++i) {
    const Source& src = sources[below(sources.size())];
    std::string bytes = src.bytes;
    std::string ext = src.ext;
    const int kind = i % 10;
    switch (kind) {
      case 0:  // truncated at a random point
        bytes.resize(below(bytes.size()));
        break;
      case 1:  // random bit flips
      case 2:
        for (size_t n = 1 + below(8); n > 0; --n) bytes[below(bytes.size())] ^= (char)(1 << below(8));
        break;
      case 3:  // absurd dimensions in the header
        huge_dimensions(bytes, ext);
        break;
      case 4:  // absurd dimensions and truncated
        huge_dimensions(bytes, ext);
        bytes.resize(bytes.size() / 2);
        break;
      case 5: {  // another fixture's magic (its first 4..40 bytes) on this body
        const Source& other = sources[below(sources.size())];
        const size_t head = std::min(other.bytes.size(), 4 + below(37));
        bytes = other.bytes.substr(0, head) + bytes.substr(std::min(head, bytes.size()));
        ext = other.ext;
        break;
      }
      case 6:  // empty, 1 byte, or a few random bytes
        bytes.resize(below(3) == 0 ? 0 : 1 + below(3) * below(16));
        for (char& c : bytes) c = (char)below(256);
        break;
      case 7:  // random bytes of a fixture's size
        for (char& c : bytes) c = (char)below(256);
        break;
      case 8:  // a wrong extension, on an intact or a flipped file
        if (below(2)) bytes[below(bytes.size())] ^= (char)(1 << below(8));
        ext = exts[below(exts.size())];
        break;
      default:  // truncated and flipped
        bytes.resize(1 + below(bytes.size()));
        bytes[below(bytes.size())] ^= (char)(1 << below(8));
        break;
    }
    char name[32];
    snprintf(name, sizeof name, "%02d/m%05d_%d", i % 16, i, kind);
    const std::string path = dir / (name + ext);
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    files.insert(path);
  }
  ASSERT_EQ(files.size(), (size_t)kFiles);

  const RunResult r = run_cli({"hash", "-r", "-q", "--threads", "2", dir.path()}, "", 600);
  ASSERT_FALSE(r.timed_out) << describe(r);
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto records = jsonl(r);
  EXPECT_EQ(records.size(), (size_t)kFiles);
  std::set<std::string> seen;
  size_t errors = 0;
  const std::set<std::string> stages = {"read", "decode", "limit", "unsupported"};
  for (const json& j : records) {
    const std::string path = j.at("path");
    EXPECT_TRUE(seen.insert(path).second) << "two records for " << path;
    EXPECT_TRUE(files.count(path)) << "a record for no file: " << path;
    if (j.at("status") == "ok") continue;
    ++errors;
    EXPECT_EQ(j.at("status"), "error") << j.dump();
    const std::string error = j.at("error");
    const size_t colon = error.find(": ");
    EXPECT_TRUE(colon != std::string::npos && stages.count(error.substr(0, colon))) << j.dump();
  }
  EXPECT_EQ(seen, files);
  EXPECT_GT(errors, (size_t)kFiles / 2);  // most of the corpus is broken beyond use
  printf("mangled corpus: %d files, %zu error records\n", kFiles, errors);
}
