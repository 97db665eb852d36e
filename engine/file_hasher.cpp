#include "file_hasher.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <exception>

#include "digest.hpp"

namespace hm {

namespace {

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

/// Closes a descriptor on every path out.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

void set_pdq_result(const pdq::PdqResult& result, bool dihedral, HashRecord& record) {
  record.has_pdq = true;
  record.pdq = result.hash;
  record.quality = result.quality;
  record.pdq_below_min_size = result.below_min_size;
  record.has_dihedral = dihedral;
  if (dihedral) record.dihedral = result.dihedral;
}

std::string FileHasher::read_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must never wait for a writer.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::string("read: ") + strerror(errno);
  FdCloser closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return std::string("read: ") + strerror(errno);
  if (!S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return "read: is a directory (use -r to hash its files)";
    return std::string("read: ") + file_kind(st.st_mode) + ", not a regular file";
  }
  const uint64_t size = (uint64_t)st.st_size;
  if (size > options_.max_file_bytes)
    return "limit: file is " + std::to_string(size) + " bytes, above the limit of " +
           std::to_string(options_.max_file_bytes) + " (--max-file-bytes)";
  if (size > capacity_) {
    buffer_.reset(new uint8_t[size]);
    capacity_ = size;
  }
  size_ = size;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, buffer_.get() + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::string("read: ") + strerror(errno);
    }
    if (n == 0) return "read: file shrank while being read";
    done += (size_t)n;
  }
  // One more byte means it grew while we read it: the digests would be of a
  // prefix, so say so rather than report a hash of a file that never existed.
  uint8_t extra;
  ssize_t more;
  do {
    more = read(fd, &extra, 1);
  } while (more < 0 && errno == EINTR);
  if (more > 0) return "read: file grew while being read";
  return {};
}

HashRecord FileHasher::hash_file(const std::string& path) {
  std::string error;
  try {
    error = read_file(path);
  } catch (const std::bad_alloc&) {
    error = "read: out of memory";
  }
  if (!error.empty()) {
    HashRecord record;
    record.path = path;
    record.error = std::move(error);
    return record;
  }
  HashRecord record = hash_bytes(path, buffer_.get(), size_);
  // Keep memory bounded: one huge file must not pin its buffer for the rest of the run.
  if (capacity_ > (64u << 20)) {
    buffer_.reset();
    capacity_ = 0;
  }
  return record;
}

HashRecord FileHasher::hash_bytes(const std::string& path, const uint8_t* data, size_t size) {
  HashRecord record;
  record.path = path;
  record.has_bytes = true;
  record.bytes = size;
  try {
    if (options_.md5) record.md5 = hex_digest(DigestType::Md5, data, size);
    if (options_.sha1) record.sha1 = hex_digest(DigestType::Sha1, data, size);
    if (options_.sha256) record.sha256 = hex_digest(DigestType::Sha256, data, size);
    if (!options_.pdq) return record;
    PixelSink* sink = options_.defer_pdq ? static_cast<PixelSink*>(&preresize_sink_) : &sink_;
    sink_.reset();
    preresize_sink_.reset();
    const DecodeOutcome decoded = decode_image(data, size, options_.decode, *sink);
    if (decoded.format != ImageFormat::Unknown) record.format = format_name(decoded.format);
    record.width = decoded.width;
    record.height = decoded.height;
    record.warnings = decoded.warnings;
    if (!decoded.ok()) {
      record.error = decoded.error;
      return record;
    }
    if (!(options_.defer_pdq ? preresize_sink_.complete() : sink_.complete())) {
      record.error = "decode: decoder delivered an incomplete image";
      return record;
    }
    if (options_.defer_pdq) {
      record.pdq_pending = std::make_shared<PreresizedImage>(preresize_sink_.take());
      return record;
    }
    sink_.hash(options_.dihedral, result_);
    set_pdq_result(result_, options_.dihedral, record);
  } catch (const std::bad_alloc&) {
    record.error = "decode: out of memory";
  } catch (const std::exception& e) {
    record.error = std::string("decode: ") + e.what();
  }
  return record;
}

}  // namespace hm
