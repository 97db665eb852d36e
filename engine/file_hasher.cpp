#include "file_hasher.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <exception>
#include <stdexcept>

#include "digest.hpp"
#include "md5_lanes.hpp"
#include "sha_many.hpp"

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

FileHasher::FileHasher(const HashOptions& options) : options_(options), buffers_(kMd5Lanes) {}

std::string FileHasher::read_file(const std::string& path, Buffer& buffer) {
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
  if (size > buffer.capacity) {
    buffer.data.reset(new uint8_t[size]);
    buffer.capacity = size;
  }
  buffer.size = size;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, buffer.data.get() + done, size - done);
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

namespace {

/// read_file, with running out of memory as a read error.
template <typename Read>
std::string read_or_error(Read&& read) {
  try {
    return read();
  } catch (const std::bad_alloc&) {
    return "read: out of memory";
  }
}

HashRecord error_record(const std::string& path, std::string error) {
  HashRecord record;
  record.path = path;
  record.error = std::move(error);
  return record;
}

}  // namespace

HashRecord FileHasher::hash_file(const std::string& path) {
  Buffer& buffer = buffers_[0];
  std::string error = read_or_error([&] { return read_file(path, buffer); });
  if (!error.empty()) return error_record(path, std::move(error));
  HashRecord record = hash_bytes(path, buffer.data.get(), buffer.size);
  buffer.release_above(64u << 20);
  return record;
}

void FileHasher::digest_all(const uint8_t* const* data, const size_t* sizes, int n,
                            Digests* out) const {
  if (options_.md5) {
    uint8_t md5[kMd5Lanes][16];
    md5_lanes(data, sizes, n, md5);
    for (int i = 0; i < n; ++i) out[i].md5 = to_hex(md5[i], sizeof md5[i]);
  }
  if (options_.sha1) {
    uint8_t sha1[kMd5Lanes][20];
    sha1_many(data, sizes, n, sha1);
    for (int i = 0; i < n; ++i) out[i].sha1 = to_hex(sha1[i], sizeof sha1[i]);
  }
  if (options_.sha256) {
    uint8_t sha256[kMd5Lanes][32];
    sha256_many(data, sizes, n, sha256);
    for (int i = 0; i < n; ++i) out[i].sha256 = to_hex(sha256[i], sizeof sha256[i]);
  }
}

void FileHasher::hash_files(const std::vector<std::string>& paths, std::vector<HashRecord>& out) {
  if (paths.size() > (size_t)kMd5Lanes)
    throw std::invalid_argument("FileHasher::hash_files: more than kMd5Lanes paths");
  out.clear();
  out.resize(paths.size());
  const bool digests = options_.md5 || options_.sha1 || options_.sha256;
  if (!digests || paths.size() < 2) {
    for (size_t i = 0; i < paths.size(); ++i) out[i] = hash_file(paths[i]);
    return;
  }
  // Read each file into the next free lane and decode it while its bytes
  // are still in cache; the digests of all the lanes come last (digesting a
  // whole group before decoding evicted the decoder's working set: 8% more
  // time in libjpeg). Failures get their record now, and a file too large
  // to hold beside the others is hashed on its own.
  size_t path_of_lane[kMd5Lanes];
  const uint8_t* data[kMd5Lanes];
  size_t sizes[kMd5Lanes];
  int lanes = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    Buffer& buffer = buffers_[lanes];
    std::string error = read_or_error([&] { return read_file(paths[i], buffer); });
    if (!error.empty()) {
      out[i] = error_record(paths[i], std::move(error));
    } else if (buffer.size > kLaneFileBytes) {
      out[i] = hash_bytes(paths[i], buffer.data.get(), buffer.size);
      buffer.release_above(kLaneFileBytes);
    } else {
      path_of_lane[lanes] = i;
      data[lanes] = buffer.data.get();
      sizes[lanes] = buffer.size;
      out[i] = hash_bytes(paths[i], data[lanes], sizes[lanes], Digests{});
      ++lanes;
    }
  }
  Digests digests_of[kMd5Lanes];
  const std::string error = digest_or_error(data, sizes, lanes, digests_of);
  for (int l = 0; l < lanes; ++l) {
    HashRecord& record = out[path_of_lane[l]];
    if (!error.empty()) {
      record = error_record(record.path, error);
      continue;
    }
    record.md5 = std::move(digests_of[l].md5);
    record.sha1 = std::move(digests_of[l].sha1);
    record.sha256 = std::move(digests_of[l].sha256);
  }
}

HashRecord FileHasher::hash_bytes(const std::string& path, const uint8_t* data, size_t size) {
  Digests digests;
  std::string error = digest_or_error(&data, &size, 1, &digests);
  if (!error.empty()) return error_record(path, std::move(error));
  return hash_bytes(path, data, size, digests);
}

std::string FileHasher::digest_or_error(const uint8_t* const* data, const size_t* sizes, int n,
                                        Digests* out) const {
  try {
    digest_all(data, sizes, n, out);
    return "";
  } catch (const std::bad_alloc&) {
    return "digest: out of memory";
  } catch (const std::exception& e) {
    return std::string("digest: ") + e.what();
  }
}

HashRecord FileHasher::hash_bytes(const std::string& path, const uint8_t* data, size_t size,
                                  const Digests& digests) {
  HashRecord record;
  record.path = path;
  record.has_bytes = true;
  record.bytes = size;
  try {
    record.md5 = digests.md5;
    record.sha1 = digests.sha1;
    record.sha256 = digests.sha256;
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
