// Enumerates input paths: files, directory trees and path lists on stdin.
#pragma once

#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

namespace hm {

/// One input: a path to hash, or a path that already failed (a directory
/// that could not be listed, a directory given without --recursive).
struct SourceItem {
  std::string path;
  std::string error;  ///< empty unless the source itself failed for this path
};

struct SourceOptions {
  bool recursive = false;   ///< descend into directories
  char stdin_delimiter = '\n';  ///< for the "-" operand: '\n' or '\0'
};

/// Yields items in a stable order: operands in command-line order; directory
/// entries sorted by name (bytes), depth first. Symbolic links to directories
/// are not followed while recursing (no loops); links to files are hashed.
/// Not thread-safe: callers serialise next().
class PathSource {
 public:
  PathSource(std::vector<std::string> operands, SourceOptions options, FILE* stdin_file = stdin);
  ~PathSource();
  /// False when there is nothing left.
  bool next(SourceItem& item);

 private:
  struct Directory;
  bool next_from_stdin(SourceItem& item);
  bool next_from_directories(SourceItem& item);
  /// Turns a path into items: a file, or a directory pushed for walking.
  bool expand(const std::string& path, bool is_operand, SourceItem& item);

  std::vector<std::string> operands_;
  size_t next_operand_ = 0;
  SourceOptions options_;
  FILE* stdin_file_;
  bool reading_stdin_ = false;
  std::vector<std::unique_ptr<Directory>> stack_;
};

}  // namespace hm
