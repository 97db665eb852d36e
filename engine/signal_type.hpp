// Signal types: the kinds of hash that reference lists hold and that are matched.
#pragma once

#include <stdint.h>

#include <optional>
#include <string>
#include <string_view>

namespace hm {

/// A kind of hash. Pdq is perceptual (256 bits, matched within a Hamming
/// distance); the digests are exact (matched by equality).
enum class SignalType { Pdq, Md5, Sha1, Sha256 };

/// Our short name: "pdq", "md5", "sha1", "sha256".
const char* signal_name(SignalType type);

/// Parses a signal type name, case-insensitively: our names, plus the
/// python-threatexchange SignalType names that denote the same hash
/// ("pdq"; "video_md5" and the older "photo_md5" for md5; "video_sha256"
/// for sha256). Other threatexchange names (url_md5, raw_text, ...) hash other
/// content and give nullopt.
std::optional<SignalType> parse_signal_name(std::string_view name);

/// Bytes per code: pdq 32, md5 16, sha1 20, sha256 32.
int signal_code_bytes(SignalType type);

/// Default match threshold: pdq 31 (inclusive Hamming distance), digests 0.
int signal_default_threshold(SignalType type);

/// True when codes match by Hamming distance (pdq); false when they match only
/// by exact equality (digests).
bool signal_is_perceptual(SignalType type);

/// Decodes exactly 2*nbytes hex digits (either case) into out[0, nbytes), byte
/// 0 from the first two digits. False (out partly written) on any other length
/// or a non-hex character.
bool parse_hex_code(std::string_view hex, int nbytes, uint8_t* out);

/// True when every character of s is a hex digit (either case); true for an
/// empty s.
bool is_hex_text(std::string_view s);

/// ASCII case-insensitive equality (names and column headers).
bool equals_ignore_case(std::string_view a, std::string_view b);

/// Lower-case hex of code[0, nbytes), 2*nbytes characters.
std::string hex_of_code(const uint8_t* code, int nbytes);

}  // namespace hm
