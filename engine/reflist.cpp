// Reference list loading: the file is mapped and parsed by hand in one pass,
// because lists run to tens of millions of lines and iostreams or regexes
// would make loading them the slowest part of a match.
#include "reflist.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <utility>

namespace hm {

void RefList::append(const uint8_t* entry_code, std::string id, const std::vector<std::string>& metadata) {
  if (metadata.size() != metadata_columns.size()) {
    throw std::invalid_argument("RefList::append: " + std::to_string(metadata.size()) +
                                " metadata values for " + std::to_string(metadata_columns.size()) +
                                " columns");
  }
  codes.insert(codes.end(), entry_code, entry_code + signal_code_bytes(signal));
  ids.push_back(std::move(id));
  metadata_values.insert(metadata_values.end(), metadata.begin(), metadata.end());
}

namespace {

constexpr size_t kMaxShownChars = 80;
constexpr size_t kMaxSkippedExamples = 5;
constexpr size_t kReadChunk = size_t{1} << 20;
constexpr size_t kMinHashDigits = 32;  ///< the shortest supported code (md5) in hex

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

/// Plain lines separate the hash from the id by any run of these.
bool is_separator(char c) { return c == ' ' || c == '\t' || c == ','; }

std::string_view trim_separators(std::string_view s) {
  while (!s.empty() && is_separator(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

size_t find_separator(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (is_separator(s[i])) return i;
  }
  return std::string_view::npos;
}

/// A word that could be a signal type name: letters, digits and '_' with at
/// least one letter past 'f' (otherwise it could be a mangled hash).
bool looks_like_name(std::string_view s) {
  for (char c : s) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word) return false;
  }
  return !is_hex_text(s);
}

/// A field as shown in a message: quoted, cut to kMaxShownChars.
std::string shown(std::string_view field) {
  if (field.size() <= kMaxShownChars) return "'" + std::string(field) + "'";
  return "'" + std::string(field.substr(0, kMaxShownChars)) + "...'";
}

/// Column names taken as the hash column when no hash_column is given.
bool is_hash_column_name(std::string_view name) {
  return equals_ignore_case(name, "hash") || equals_ignore_case(name, "signal") ||
         equals_ignore_case(name, "signal_str") || parse_signal_name(name).has_value();
}

/// Splits one CSV/TSV line into fields (RFC 4180 quoting, no line breaks in
/// quotes). Blanks around fields are dropped, except tabs in TSV, which are
/// delimiters. Returns the reason when the line is malformed.
std::string split_fields(std::string_view line, char delimiter, std::vector<std::string>& fields) {
  const auto is_pad = [delimiter](char c) { return c == ' ' || (c == '\t' && delimiter != '\t'); };
  size_t count = 0;
  size_t i = 0;
  for (;;) {
    if (count == fields.size()) fields.emplace_back();
    std::string& field = fields[count++];
    field.clear();
    size_t j = i;
    while (j < line.size() && is_pad(line[j])) ++j;
    if (j < line.size() && line[j] == '"') {
      ++j;
      for (;;) {
        const size_t quote = line.find('"', j);
        if (quote == std::string_view::npos) {
          fields.resize(count);
          return "unterminated quoted field in column " + std::to_string(count) +
                 " (quoted fields may not span lines)";
        }
        field.append(line.substr(j, quote - j));
        j = quote + 1;
        if (j < line.size() && line[j] == '"') {
          field.push_back('"');
          ++j;
          continue;
        }
        break;
      }
      while (j < line.size() && is_pad(line[j])) ++j;
      if (j == line.size()) break;
      if (line[j] != delimiter) {
        fields.resize(count);
        return "unexpected text after the closing quote of column " + std::to_string(count) + ": " +
               shown(line.substr(j));
      }
      i = j + 1;
    } else {
      const size_t end = line.find(delimiter, i);
      std::string_view raw = line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
      while (!raw.empty() && is_pad(raw.front())) raw.remove_prefix(1);
      while (!raw.empty() && is_pad(raw.back())) raw.remove_suffix(1);
      field.assign(raw);
      if (end == std::string_view::npos) break;
      i = end + 1;
    }
  }
  fields.resize(count);
  return {};
}

/// One pass over the text; owns the format and signal type decisions.
class Parser {
 public:
  Parser(const std::string& source, const RefListOptions& options, RefList& out)
      : source_(source), options_(options), out_(out), signal_(options.signal),
        signal_named_(options.signal.has_value()) {}

  void parse(std::string_view text);

 private:
  enum class Mode { Undecided, Lines, Table };

  /// A hash found on a line, before it is checked against the list.
  struct Candidate {
    std::string_view hex;
    std::optional<SignalType> named;  ///< the type the line names, if any
    std::string_view id;
  };

  void first_line(std::string_view line, std::string_view trimmed, size_t number);
  void plain_line(std::string_view trimmed, size_t number);
  void table_line(std::string_view line, size_t number);
  void read_header(size_t number);
  std::string split_plain(std::string_view trimmed, Candidate& candidate) const;
  /// Checks a hash against the list's type and decodes it into code_;
  /// returns the reason when it does not fit.
  std::string check_hash(std::string_view hex, std::optional<SignalType> named, SignalType& type);
  void add(const Candidate& candidate, SignalType type, size_t number);
  void bad_line(size_t number, std::string reason);
  [[noreturn]] void fail(size_t number, const std::string& reason) const;

  const std::string& source_;
  const RefListOptions& options_;
  RefList& out_;
  std::optional<SignalType> signal_;
  bool signal_named_;  ///< fixed by the option, a column or a type name, not only by a hex length
  Mode mode_ = Mode::Undecided;
  size_t line_estimate_ = 0;

  char delimiter_ = ',';
  size_t columns_ = 0;
  size_t hash_index_ = 0;
  std::string hash_name_;  ///< the hash column's header name, for messages
  std::optional<size_t> id_index_;
  std::optional<size_t> type_index_;
  std::vector<size_t> metadata_indices_;
  std::vector<std::string> fields_;  ///< scratch, reused across lines
  uint8_t code_[32];  ///< the code check_hash decoded last
};

void Parser::parse(std::string_view text) {
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.remove_prefix(3);
  // One cheap pass to size the arrays, so ten million entries don't reallocate.
  line_estimate_ = 1;
  for (const char* p = text.data(); (p = static_cast<const char*>(
                                         memchr(p, '\n', text.data() + text.size() - p))) != nullptr;
       ++p) {
    ++line_estimate_;
  }
  out_.ids.reserve(line_estimate_);

  size_t number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const char* start = text.data() + pos;
    const auto* newline = static_cast<const char*>(memchr(start, '\n', text.size() - pos));
    const size_t length = newline ? static_cast<size_t>(newline - start) : text.size() - pos;
    pos += length + 1;
    ++number;
    std::string_view line(start, length);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view trimmed = trim_blanks(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    switch (mode_) {
      case Mode::Undecided: first_line(line, trimmed, number); break;
      case Mode::Lines: plain_line(trimmed, number); break;
      case Mode::Table: table_line(line, number); break;
    }
  }
  if (mode_ == Mode::Undecided && !options_.hash_column.empty()) {
    throw RefListError(source_ + ": no header line with hash column " + shown(options_.hash_column));
  }
  if (mode_ == Mode::Undecided && !options_.id_column.empty()) {
    throw RefListError(source_ + ": no header line with id column " + shown(options_.id_column));
  }
  out_.signal = signal_.value_or(SignalType::Pdq);
}

void Parser::first_line(std::string_view line, std::string_view trimmed, size_t number) {
  const bool header_required = !options_.hash_column.empty() || !options_.id_column.empty();
  if (!header_required) {
    Candidate candidate;
    SignalType type;
    if (split_plain(trimmed, candidate).empty() && check_hash(candidate.hex, candidate.named, type).empty()) {
      mode_ = Mode::Lines;
      add(candidate, type, number);
      return;
    }
  }
  delimiter_ = line.find('\t') != std::string_view::npos ? '\t' : ',';
  const std::string split_error = split_fields(line, delimiter_, fields_);
  bool is_header = false;
  if (split_error.empty()) {
    for (const std::string& field : fields_) {
      is_header |= options_.hash_column.empty() ? is_hash_column_name(field)
                                                : equals_ignore_case(field, options_.hash_column);
    }
  }
  if (is_header) {
    mode_ = Mode::Table;
    read_header(number);
    return;
  }
  if (!options_.hash_column.empty()) {
    fail(number, "no header line with hash column " + shown(options_.hash_column) + " (first line is " +
                     shown(trimmed) + ")");
  }
  if (!options_.id_column.empty()) {
    fail(number, "id column " + shown(options_.id_column) +
                     " needs a header line naming the hash column (first line is " + shown(trimmed) + ")");
  }
  mode_ = Mode::Lines;
  plain_line(trimmed, number);
}

void Parser::read_header(size_t number) {
  columns_ = fields_.size();
  std::optional<size_t> hash;
  for (size_t i = 0; i < columns_ && !hash; ++i) {
    if (!options_.hash_column.empty()) {
      if (equals_ignore_case(fields_[i], options_.hash_column)) hash = i;
    } else if (options_.signal && parse_signal_name(fields_[i]) == options_.signal) {
      hash = i;  // e.g. an md5,sha1,sha256 table read as a sha1 list
    }
  }
  for (size_t i = 0; i < columns_ && !hash; ++i) {
    if (options_.hash_column.empty() && is_hash_column_name(fields_[i])) hash = i;
  }
  if (!hash) fail(number, "the header has no hash column");  // first_line checked; kept for safety
  hash_index_ = *hash;
  hash_name_ = fields_[hash_index_];

  if (const std::optional<SignalType> column_type = parse_signal_name(fields_[hash_index_])) {
    if (options_.signal && *options_.signal != *column_type) {
      fail(number, "hash column " + shown(fields_[hash_index_]) + " holds " + signal_name(*column_type) +
                       " hashes, but the list was requested as " + signal_name(*options_.signal));
    }
    signal_ = column_type;
    signal_named_ = true;
  }

  const std::string_view id_name = options_.id_column.empty() ? std::string_view("id") : options_.id_column;
  for (size_t i = 0; i < columns_; ++i) {
    if (i == hash_index_) continue;
    if (!id_index_ && equals_ignore_case(fields_[i], id_name)) id_index_ = i;
    if (!type_index_ && equals_ignore_case(fields_[i], "signal_type")) type_index_ = i;
  }
  if (!options_.id_column.empty() && !id_index_) {
    fail(number, "the header has no id column " + shown(options_.id_column));
  }
  for (size_t i = 0; i < columns_; ++i) {
    if (i == hash_index_ || (id_index_ && i == *id_index_)) continue;
    metadata_indices_.push_back(i);
    out_.metadata_columns.push_back(fields_[i]);
  }
  out_.metadata_values.reserve(line_estimate_ * metadata_indices_.size());
}

std::string Parser::split_plain(std::string_view trimmed, Candidate& candidate) const {
  const size_t end = find_separator(trimmed);
  const std::string_view first = trimmed.substr(0, end);
  const std::string_view rest =
      end == std::string_view::npos ? std::string_view() : trim_separators(trimmed.substr(end));
  candidate = Candidate{};
  if (first.empty()) return "missing hash before " + shown(rest);
  if (!is_hex_text(first)) {
    const size_t hash_end = find_separator(rest);
    const std::string_view second = rest.substr(0, hash_end);
    if (const std::optional<SignalType> named = parse_signal_name(first)) {
      if (second.empty()) return "missing hash after signal type " + shown(first);
      candidate.named = named;
      candidate.hex = second;
      if (hash_end != std::string_view::npos) candidate.id = trim_separators(rest.substr(hash_end));
      return {};
    }
    // "url_md5 <hash>": a type we don't match, not a broken hash; a short hex
    // word after it ("not a hash") does not count.
    if (looks_like_name(first) && second.size() >= kMinHashDigits && is_hex_text(second)) {
      return "unsupported signal type " + shown(first);
    }
  }
  candidate.hex = first;
  candidate.id = rest;
  return {};
}

std::string Parser::check_hash(std::string_view hex, std::optional<SignalType> named, SignalType& type) {
  if (hex.empty()) return "missing hash";
  const auto not_hex = [&] { return "bad hash " + shown(hex) + ": not hexadecimal"; };
  if (named) {
    // A list typed only by its hex length may still learn it is sha256 (same
    // length as pdq) from a named line; any other disagreement is a mixed list.
    const bool compatible = !signal_ || *signal_ == *named ||
                            (!signal_named_ && signal_code_bytes(*signal_) == signal_code_bytes(*named));
    if (!compatible) {
      if (!is_hex_text(hex)) return not_hex();
      return std::string("signal type ") + signal_name(*named) + " does not match the list's signal type " +
             signal_name(*signal_);
    }
    type = *named;
  } else if (signal_) {
    type = *signal_;
  } else {
    switch (hex.size()) {
      case 64: type = SignalType::Pdq; break;
      case 32: type = SignalType::Md5; break;
      case 40: type = SignalType::Sha1; break;
      default:
        if (!is_hex_text(hex)) return not_hex();
        return "bad hash " + shown(hex) + ": " + std::to_string(hex.size()) +
               " hex digits match no signal type (64 pdq, 32 md5, 40 sha1)";
    }
  }
  const int nbytes = signal_code_bytes(type);
  if (parse_hex_code(hex, nbytes, code_)) return {};
  if (!is_hex_text(hex)) return not_hex();
  return "bad hash " + shown(hex) + ": " + std::to_string(hex.size()) + " hex digits, expected " +
         std::to_string(2 * nbytes) + " for " + signal_name(type);
}

void Parser::add(const Candidate& candidate, SignalType type, size_t number) {
  if (!signal_ || (candidate.named && !signal_named_)) {
    signal_ = type;
    signal_named_ = candidate.named.has_value();
  }
  const int nbytes = signal_code_bytes(type);
  if (out_.codes.empty()) out_.codes.reserve(line_estimate_ * static_cast<size_t>(nbytes));
  out_.codes.insert(out_.codes.end(), code_, code_ + nbytes);
  if (candidate.id.empty()) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, number);
    out_.ids.emplace_back(digits, result.ptr);
  } else {
    out_.ids.emplace_back(candidate.id);
  }
}

void Parser::plain_line(std::string_view trimmed, size_t number) {
  Candidate candidate;
  SignalType type;
  if (signal_) {
    // Fast path for the common line, "<hash>" or "<hash> <id>" of the list's
    // type: one pass decodes it. Anything else takes the general path below,
    // which reaches the same result and explains what is wrong.
    const size_t digits = 2 * static_cast<size_t>(signal_code_bytes(*signal_));
    if (trimmed.size() >= digits && (trimmed.size() == digits || is_separator(trimmed[digits])) &&
        parse_hex_code(trimmed.substr(0, digits), signal_code_bytes(*signal_), code_)) {
      candidate.hex = trimmed.substr(0, digits);
      candidate.id = trim_separators(trimmed.substr(digits));
      return add(candidate, *signal_, number);
    }
  }
  std::string reason = split_plain(trimmed, candidate);
  if (reason.empty()) reason = check_hash(candidate.hex, candidate.named, type);
  if (!reason.empty()) return bad_line(number, std::move(reason));
  add(candidate, type, number);
}

void Parser::table_line(std::string_view line, size_t number) {
  std::string reason = split_fields(line, delimiter_, fields_);
  if (!reason.empty()) return bad_line(number, std::move(reason));
  if (fields_.size() != columns_) {
    return bad_line(number, "expected " + std::to_string(columns_) + " fields as in the header, found " +
                                std::to_string(fields_.size()));
  }
  Candidate candidate;
  if (type_index_ && !fields_[*type_index_].empty()) {
    const std::string& type_name = fields_[*type_index_];
    candidate.named = parse_signal_name(type_name);
    if (!candidate.named) return bad_line(number, "unsupported signal type " + shown(type_name));
  }
  candidate.hex = fields_[hash_index_];
  if (candidate.hex.empty()) return bad_line(number, "missing hash in column " + shown(hash_name_));
  if (id_index_) candidate.id = fields_[*id_index_];
  SignalType type;
  reason = check_hash(candidate.hex, candidate.named, type);
  if (!reason.empty()) return bad_line(number, std::move(reason));
  add(candidate, type, number);
  for (size_t index : metadata_indices_) out_.metadata_values.push_back(fields_[index]);
}

void Parser::bad_line(size_t number, std::string reason) {
  std::string message = source_ + ":" + std::to_string(number) + ": " + reason;
  if (!options_.skip_bad_lines) throw RefListError(message);
  ++out_.skipped_lines;
  if (out_.skipped_examples.size() < kMaxSkippedExamples) out_.skipped_examples.push_back(std::move(message));
}

void Parser::fail(size_t number, const std::string& reason) const {
  throw RefListError(source_ + ":" + std::to_string(number) + ": " + reason);
}

/// The bytes of a file: mapped when it is a regular file, else read in big
/// chunks (pipes, /dev/stdin, /proc files report no useful size).
class FileBytes {
 public:
  explicit FileBytes(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_errno(errno);
    struct stat st;
    if (::fstat(fd_, &st) != 0) fail_errno(errno);
    if (S_ISDIR(st.st_mode)) fail_errno(EISDIR);
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd_, 0);
      if (map != MAP_FAILED) {
        ::madvise(map, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
        map_ = map;
        map_size_ = static_cast<size_t>(st.st_size);
        return;
      }
    }
    for (;;) {
      const size_t used = buffer_.size();
      buffer_.resize(used + kReadChunk);
      const ssize_t got = ::read(fd_, buffer_.data() + used, kReadChunk);
      if (got < 0 && errno == EINTR) {
        buffer_.resize(used);
        continue;
      }
      if (got < 0) fail_errno(errno);
      buffer_.resize(used + static_cast<size_t>(got));
      if (got == 0) break;
    }
  }
  ~FileBytes() { release(); }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  std::string_view view() const {
    if (map_) return {static_cast<const char*>(map_), map_size_};
    return buffer_;
  }

 private:
  [[noreturn]] void fail_errno(int error) {
    release();
    throw RefListError(path_ + ": " + strerror(error));
  }
  void release() {
    if (map_) ::munmap(map_, map_size_);
    if (fd_ >= 0) ::close(fd_);
    map_ = nullptr;
    fd_ = -1;
  }

  std::string path_;
  int fd_ = -1;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::string buffer_;
};

}  // namespace

RefList parse_reflist(std::string_view text, const std::string& source, const RefListOptions& options) {
  RefList list;
  list.source = source;
  Parser(source, options, list).parse(text);
  return list;
}

RefList load_reflist(const std::string& path, const RefListOptions& options) {
  FileBytes file(path);
  return parse_reflist(file.view(), path, options);
}

}  // namespace hm
