#include "index_file.hpp"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "huge_pages.hpp"

namespace hm {

namespace {

constexpr char kMagic[8] = {'H', 'M', 'I', 'N', 'D', 'E', 'X', '\0'};
constexpr size_t kChecksumBytes = 32;

void sha256(const uint8_t* data, size_t size, uint8_t out[kChecksumBytes]) {
  unsigned int len = 0;
  if (EVP_Digest(data, size, out, &len, EVP_sha256(), nullptr) != 1 || len != kChecksumBytes)
    throw std::runtime_error("SHA-256 failed");
}

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

template <typename T>
T get(const uint8_t* p) {
  T value;
  memcpy(&value, p, sizeof(T));
  return value;
}

size_t padded(size_t n) { return (n + 7) & ~size_t(7); }

std::string errno_text() { return strerror(errno); }

void write_all(int fd, const uint8_t* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IndexFileError(path + ": cannot write: " + errno_text());
    data += n;
    size -= (size_t)n;
  }
}

}  // namespace

void IndexFileWriter::add_section(const char tag[4], std::vector<uint8_t> bytes) {
  sections_.emplace_back(std::string(tag, 4), std::move(bytes));
}

void IndexFileWriter::write(const std::string& path) const {
  std::vector<uint8_t> head(kMagic, kMagic + sizeof(kMagic));
  put<uint32_t>(head, kIndexFormatVersion);
  put<uint32_t>(head, (uint32_t)sections_.size());

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> guard(ctx, EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 init failed");

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IndexFileError(tmp + ": cannot create: " + errno_text());
  try {
    auto emit = [&](const uint8_t* data, size_t size) {
      EVP_DigestUpdate(ctx, data, size);
      write_all(fd, data, size, tmp);
    };
    emit(head.data(), head.size());
    static const uint8_t kZeros[8] = {};
    for (const auto& [tag, bytes] : sections_) {
      std::vector<uint8_t> section_head(tag.begin(), tag.end());
      put<uint32_t>(section_head, 0);
      put<uint64_t>(section_head, bytes.size());
      emit(section_head.data(), section_head.size());
      emit(bytes.data(), bytes.size());
      emit(kZeros, padded(bytes.size()) - bytes.size());
    }
    uint8_t sum[kChecksumBytes];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, sum, &len);
    write_all(fd, sum, sizeof(sum), tmp);
    if (::fsync(fd) != 0) throw IndexFileError(tmp + ": cannot sync: " + errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw IndexFileError(tmp + ": cannot close: " + errno_text());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = errno_text();
    ::unlink(tmp.c_str());
    throw IndexFileError(path + ": cannot rename the new index into place: " + reason);
  }
}

IndexFileReader::IndexFileReader(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IndexFileError(path + ": cannot open: " + errno_text());
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IndexFileError(path + ": not a regular file");
  }
  data_.reserve((size_t)st.st_size);
  advise_huge_pages(data_.data(), data_.capacity());
  data_.resize((size_t)st.st_size);
  size_t done = 0;
  while (done < data_.size()) {
    const ssize_t n = ::read(fd, data_.data() + done, data_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = errno_text();
      ::close(fd);
      throw IndexFileError(path + ": cannot read: " + reason);
    }
    if (n == 0) break;
    done += (size_t)n;
  }
  ::close(fd);
  data_.resize(done);

  const size_t fixed = sizeof(kMagic) + 8;
  if (data_.size() < sizeof(kMagic) || memcmp(data_.data(), kMagic, sizeof(kMagic)) != 0)
    throw IndexFileError(path + ": not a hashmatch index (no HMINDEX header)");
  if (data_.size() < fixed + kChecksumBytes)
    throw IndexFileError(path + ": truncated index (" + std::to_string(data_.size()) + " bytes)");
  const uint32_t version = get<uint32_t>(data_.data() + 8);
  if (version != kIndexFormatVersion)
    throw IndexFileError(path + ": index format version " + std::to_string(version) +
                         " is not supported by this build (it reads version " +
                         std::to_string(kIndexFormatVersion) + ")");
  const size_t body = data_.size() - kChecksumBytes;
  uint8_t sum[kChecksumBytes];
  sha256(data_.data(), body, sum);
  if (memcmp(sum, data_.data() + body, kChecksumBytes) != 0)
    throw IndexFileError(path + ": truncated or corrupt index (checksum mismatch)");

  const uint32_t count = get<uint32_t>(data_.data() + 12);
  size_t at = fixed;
  for (uint32_t i = 0; i < count; ++i) {
    if (body - at < 16) throw IndexFileError(path + ": corrupt index (section table overruns the file)");
    const std::string tag(reinterpret_cast<const char*>(data_.data() + at), 4);
    const uint64_t length = get<uint64_t>(data_.data() + at + 8);
    at += 16;
    if (length > body - at || padded(length) > body - at)
      throw IndexFileError(path + ": corrupt index (section " + tag + " overruns the file)");
    sections_[tag] = std::string_view(reinterpret_cast<const char*>(data_.data() + at), length);
    at += padded(length);
  }
  if (at != body) throw IndexFileError(path + ": corrupt index (trailing bytes after the sections)");
}

bool IndexFileReader::has_section(const std::string& tag) const { return sections_.count(tag) != 0; }

std::string_view IndexFileReader::section(const std::string& tag) const {
  const auto it = sections_.find(tag);
  if (it == sections_.end()) throw IndexFileError(path_ + ": index has no " + tag + " section");
  return it->second;
}

std::vector<uint8_t> encode_strings(const PackedStrings& strings) {
  size_t total = 0;
  for (size_t i = 0; i < strings.size(); ++i) total += 4 + strings[i].size();
  std::vector<uint8_t> out;
  out.reserve(total);
  for (size_t i = 0; i < strings.size(); ++i) {
    const std::string_view s = strings[i];
    put<uint32_t>(out, (uint32_t)s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

PackedStrings decode_strings(std::string_view bytes, size_t count, const std::string& what) {
  PackedStrings out;
  out.reserve(count, bytes.size() >= 4 * count ? bytes.size() - 4 * count : 0);
  size_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    if (bytes.size() - at < 4) throw IndexFileError("corrupt index: " + what + " ends early");
    const uint32_t n = get<uint32_t>(reinterpret_cast<const uint8_t*>(bytes.data() + at));
    at += 4;
    if (bytes.size() - at < n) throw IndexFileError("corrupt index: " + what + " ends early");
    out.push_back(bytes.substr(at, n));
    at += n;
  }
  if (at != bytes.size()) throw IndexFileError("corrupt index: " + what + " has trailing bytes");
  return out;
}

}  // namespace hm
