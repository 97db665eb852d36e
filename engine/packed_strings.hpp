// Millions of short strings (reference ids, metadata values) in one buffer.
#pragma once

#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

namespace hm {

/// An append-only list of strings stored back to back: about 8 bytes of
/// overhead per string instead of a std::string's 32 plus its allocation.
class PackedStrings {
 public:
  PackedStrings() : offsets_{0} {}
  void reserve(size_t count, size_t bytes) {
    offsets_.reserve(count + 1);
    chars_.reserve(bytes);
  }
  void push_back(std::string_view s) {
    chars_.append(s.data(), s.size());
    offsets_.push_back(chars_.size());
  }
  size_t size() const { return offsets_.size() - 1; }
  std::string_view operator[](size_t i) const {
    return std::string_view(chars_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  size_t memory_bytes() const { return chars_.capacity() + offsets_.capacity() * sizeof(uint64_t); }

 private:
  std::string chars_;
  std::vector<uint64_t> offsets_;  ///< string i is chars_[offsets_[i], offsets_[i + 1])
};

}  // namespace hm
