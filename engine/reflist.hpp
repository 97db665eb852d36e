// Reference hash lists: known hashes of one signal type, with ids and metadata.
//
// Formats, detected from the content (never from the file name):
//  1. Plain lines: `<hex>` or `<hex>[ \t,]+<id>`; the id is the rest of the
//     line, trimmed.
//  2. CSV or TSV with a header line (TSV when the header holds a tab). The hash
//     column is RefListOptions::hash_column, else the first column named
//     pdq / md5 / sha1 / sha256 / video_md5 / photo_md5 / video_sha256 (these
//     also fix the signal type), hash, signal or signal_str (the last is what
//     `threatexchange dataset -P --csv` writes); when the signal type option
//     is set, a column named after that type wins. The id column is
//     RefListOptions::id_column, else `id` if present. Every other column is
//     kept as metadata. Fields may be double-quoted with `""` for a quote; a
//     quoted field may not span lines. A column named signal_type, if
//     present, names each row's type (threatexchange names accepted); rows of
//     another type are bad lines.
//  3. python-threatexchange text lines, as written by `threatexchange hash`
//     and `threatexchange dataset -P`: `<signal_type> <hex>[ <rest>]`, where
//     rest (dataset -P puts the collaboration and the opinions there) becomes
//     the id. Plain and threatexchange lines may be mixed in one file.
// Blank lines and lines whose first non-blank character is '#' are skipped;
// CRLF line ends and a leading UTF-8 BOM are accepted.
//
// The signal type comes from RefListOptions::signal if set, else from a hash
// column or signal type name, else from the hex length of the first hash: 64
// pdq, 32 md5, 40 sha1. A sha256 list is 64 hex digits like pdq, so it needs
// the option, a sha256 column or sha256 signal names (a list read as pdq by
// length becomes sha256 at its first line named sha256). A list holds one
// type: a hash of another length or name is a bad line.
//
// Entries without an id get their 1-based line number ("17") as id, so a
// reviewer can find them. Duplicate hashes are all kept, in file order.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "signal_type.hpp"

namespace hm {

/// A list that cannot be used: "<path>:<line>: <reason>" for a bad line,
/// "<path>: <reason>" for the file as a whole (unreadable, bad options).
class RefListError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RefListOptions {
  std::optional<SignalType> signal;  ///< force the type; every hash must have its length
  std::string hash_column;           ///< empty: the default names; else the list must have a header with it
  std::string id_column;             ///< empty: "id" if present; else the header must have it
  bool skip_bad_lines = false;       ///< count and skip bad lines instead of throwing
};

/// Known hashes of one signal type, in file order.
struct RefList {
  std::string source;                         ///< the path (or name) it was read from
  SignalType signal = SignalType::Pdq;
  std::vector<uint8_t> codes;                 ///< row-major [size(), signal_code_bytes(signal)]
  std::vector<std::string> ids;               ///< [size()]
  std::vector<std::string> metadata_columns;  ///< extra CSV/TSV columns, in header order
  std::vector<std::string> metadata_values;   ///< row-major [size(), metadata_columns.size()]
  size_t skipped_lines = 0;                   ///< bad lines skipped under skip_bad_lines
  std::vector<std::string> skipped_examples;  ///< the first few skipped lines' messages (at most 5)

  /// Number of entries.
  size_t size() const { return ids.size(); }
  /// Entry i's code, signal_code_bytes(signal) bytes.
  const uint8_t* code(size_t i) const {
    return codes.data() + i * static_cast<size_t>(signal_code_bytes(signal));
  }
  /// Appends one entry: code has signal_code_bytes(signal) bytes, metadata one
  /// value per metadata column (throws std::invalid_argument otherwise).
  void append(const uint8_t* code, std::string id, const std::vector<std::string>& metadata = {});
};

/// Reads and parses a list file (mapped, not streamed line by line: ten
/// million lines load in seconds). Throws RefListError.
RefList load_reflist(const std::string& path, const RefListOptions& options);

/// Parses list text already in memory; source names it in errors and in
/// RefList::source. Throws RefListError.
RefList parse_reflist(std::string_view text, const std::string& source, const RefListOptions& options);

}  // namespace hm
