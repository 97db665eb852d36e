// Signal type names, sizes and hex codes.
#include "signal_type.hpp"

#include <array>

namespace hm {

namespace {

/// Hex digit value, or -1; a table because reference lists decode millions of
/// codes and a branchy conversion shows up in the load time.
constexpr std::array<int8_t, 256> make_hex_table() {
  std::array<int8_t, 256> table{};
  for (int i = 0; i < 256; ++i) table[i] = -1;
  for (int i = 0; i < 10; ++i) table['0' + i] = static_cast<int8_t>(i);
  for (int i = 0; i < 6; ++i) {
    table['a' + i] = static_cast<int8_t>(10 + i);
    table['A' + i] = static_cast<int8_t>(10 + i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kHexValue = make_hex_table();

struct NamedSignal {
  const char* name;
  SignalType type;
};

// python-threatexchange derives names from its class names (PdqSignal ->
// "pdq", VideoMD5Signal -> "video_md5", PhotoMD5Signal -> "photo_md5" in
// older releases, VideoSHA256Signal -> "video_sha256"); they hash the same
// bytes as ours, so lists exported by it load directly.
constexpr NamedSignal kSignalNames[] = {
    {"pdq", SignalType::Pdq},          {"md5", SignalType::Md5},
    {"sha1", SignalType::Sha1},        {"sha256", SignalType::Sha256},
    {"video_md5", SignalType::Md5},    {"photo_md5", SignalType::Md5},
    {"video_sha256", SignalType::Sha256},
};

}  // namespace

const char* signal_name(SignalType type) {
  switch (type) {
    case SignalType::Pdq: return "pdq";
    case SignalType::Md5: return "md5";
    case SignalType::Sha1: return "sha1";
    case SignalType::Sha256: return "sha256";
  }
  return "unknown";
}

std::optional<SignalType> parse_signal_name(std::string_view name) {
  for (const NamedSignal& named : kSignalNames) {
    if (equals_ignore_case(name, named.name)) return named.type;
  }
  return std::nullopt;
}

int signal_code_bytes(SignalType type) {
  switch (type) {
    case SignalType::Pdq: return 32;
    case SignalType::Md5: return 16;
    case SignalType::Sha1: return 20;
    case SignalType::Sha256: return 32;
  }
  return 0;
}

int signal_default_threshold(SignalType type) { return type == SignalType::Pdq ? 31 : 0; }

bool signal_is_perceptual(SignalType type) { return type == SignalType::Pdq; }

bool parse_hex_code(std::string_view hex, int nbytes, uint8_t* out) {
  if (nbytes < 0 || hex.size() != static_cast<size_t>(nbytes) * 2) return false;
  for (int i = 0; i < nbytes; ++i) {
    const int hi = kHexValue[static_cast<uint8_t>(hex[2 * i])];
    const int lo = kHexValue[static_cast<uint8_t>(hex[2 * i + 1])];
    if ((hi | lo) < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

bool is_hex_text(std::string_view s) {
  for (char c : s) {
    if (kHexValue[static_cast<uint8_t>(c)] < 0) return false;
  }
  return true;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string hex_of_code(const uint8_t* code, int nbytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(static_cast<size_t>(nbytes) * 2, '\0');
  for (int i = 0; i < nbytes; ++i) {
    hex[2 * i] = kDigits[code[i] >> 4];
    hex[2 * i + 1] = kDigits[code[i] & 15];
  }
  return hex;
}

}  // namespace hm
