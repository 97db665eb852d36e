#include "path_source.hpp"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>

#include "packed_strings.hpp"

namespace hm {

/// A directory being walked. Its names are held until it is done, so they are
/// packed (a store can hold 100k files in one directory).
struct PathSource::Directory {
  std::string path;
  PackedStrings names;          ///< as readdir returned them
  std::vector<uint32_t> order;  ///< indexes into names, sorted by name (bytes)
  size_t next = 0;
};

PathSource::PathSource(std::vector<std::string> operands, SourceOptions options, FILE* stdin_file)
    : operands_(std::move(operands)), options_(options), stdin_file_(stdin_file) {}

PathSource::~PathSource() = default;

namespace {

std::string join(const std::string& dir, std::string_view name) {
  std::string path = dir;
  if (path.empty() || path.back() != '/') path += '/';
  path.append(name.data(), name.size());
  return path;
}

/// Lists a directory's entries (no "." or ".."), sorted; "" or the error.
std::string list_directory(const std::string& path, PackedStrings& names,
                           std::vector<uint32_t>& order) {
  DIR* dir = opendir(path.c_str());
  if (!dir) return std::string("read: cannot list directory: ") + strerror(errno);
  errno = 0;
  while (const dirent* e = readdir(dir)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
    errno = 0;
  }
  const int err = errno;
  closedir(dir);
  if (err != 0) return std::string("read: cannot list directory: ") + strerror(err);
  order.resize(names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = (uint32_t)i;
  // string_view compares bytes as unsigned char, like strcmp.
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return names[a] < names[b]; });
  return {};
}

}  // namespace

bool PathSource::expand(const std::string& path, bool is_operand, SourceItem& item) {
  struct stat st;
  // Operands are followed like any command-line file; entries found while
  // walking are not, so a link to a parent directory cannot loop.
  const int rc = is_operand ? stat(path.c_str(), &st) : lstat(path.c_str(), &st);
  if (rc == 0 && S_ISLNK(st.st_mode)) {
    // Say why a link to a directory is not walked (the hasher would report
    // it as "is a directory (use -r ...)", which misleads under -r).
    struct stat target;
    if (stat(path.c_str(), &target) == 0 && S_ISDIR(target.st_mode)) {
      item.path = path;
      item.error = "read: symbolic link to a directory, not followed";
      return true;
    }
  }
  if (rc != 0 || !S_ISDIR(st.st_mode)) {
    item.path = path;  // the hasher reports missing files, links and specials
    item.error.clear();
    return true;
  }
  if (!options_.recursive) {
    item.path = path;
    item.error = "read: is a directory (use -r to hash its files)";
    return true;
  }
  auto dir = std::make_unique<Directory>();
  dir->path = path;
  const std::string error = list_directory(path, dir->names, dir->order);
  if (!error.empty()) {
    item.path = path;
    item.error = error;
    return true;
  }
  stack_.push_back(std::move(dir));
  return false;
}

bool PathSource::next_from_directories(SourceItem& item) {
  while (!stack_.empty()) {
    Directory& top = *stack_.back();
    if (top.next == top.order.size()) {
      stack_.pop_back();
      continue;
    }
    const std::string path = join(top.path, top.names[top.order[top.next++]]);
    if (expand(path, false, item)) return true;
  }
  return false;
}

bool PathSource::next_from_stdin(SourceItem& item) {
  char* line = nullptr;
  size_t capacity = 0;
  while (true) {
    const ssize_t n = getdelim(&line, &capacity, options_.stdin_delimiter, stdin_file_);
    if (n < 0) break;
    std::string path(line, (size_t)n);
    if (!path.empty() && path.back() == options_.stdin_delimiter) path.pop_back();
    if (options_.stdin_delimiter == '\n' && !path.empty() && path.back() == '\r') path.pop_back();
    if (path.empty()) continue;
    free(line);
    if (expand(path, true, item)) return true;
    if (next_from_directories(item)) return true;
    line = nullptr;
    capacity = 0;
  }
  free(line);
  return false;
}

bool PathSource::next(SourceItem& item) {
  while (true) {
    if (next_from_directories(item)) return true;
    if (reading_stdin_) {
      if (next_from_stdin(item)) return true;
      reading_stdin_ = false;
    }
    if (next_operand_ == operands_.size()) return false;
    const std::string& operand = operands_[next_operand_++];
    if (operand == "-") {
      reading_stdin_ = true;
      continue;
    }
    if (expand(operand, true, item)) return true;
  }
}

}  // namespace hm
