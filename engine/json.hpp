// Minimal JSON and CSV text helpers for the report writers.
#pragma once

#include <string>
#include <string_view>

namespace hm {

/// True when s is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// Appends s as a JSON string literal, quotes included. Invalid UTF-8 bytes
/// become U+FFFD: callers that must keep such bytes add them separately
/// (see the path_hex field of the reports).
void append_json_string(std::string& out, std::string_view s);

/// Appends s as one CSV field (RFC 4180: quoted when it holds a comma, quote,
/// CR or LF; quotes doubled).
void append_csv_field(std::string& out, std::string_view s);

}  // namespace hm
