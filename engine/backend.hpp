// The backend registry: which compute backends this build has, which one a
// command runs on, and what the machine offers. The only place that knows
// whether CUDA was compiled in (style: `#if HM_HAS_CUDA` in one place); every
// other module asks here.
#pragma once

#include <stddef.h>

#include <memory>
#include <string>
#include <vector>

namespace faiss {
struct IndexBinary;
}

namespace hm {

struct HashRecord;

enum class Backend { Cpu, Cuda };

/// What the user asked for with --backend.
enum class BackendChoice { Auto, Cpu, Cuda };

/// "auto", "cpu" or "cuda"; throws std::invalid_argument otherwise.
BackendChoice parse_backend_choice(const std::string& text);
const char* backend_name(Backend backend);

/// True when this build includes the CUDA backend.
bool cuda_compiled();

/// A CUDA device as `hashmatch info` shows it.
struct GpuDevice {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  int multiprocessors = 0;
  size_t memory_bytes = 0;
};

/// The usable CUDA devices; empty without CUDA or without a device.
std::vector<GpuDevice> gpu_devices();

/// auto: CUDA when compiled in and a device exists, else the CPU. cuda:
/// throws std::runtime_error saying why when it is not available.
Backend resolve_backend(BackendChoice choice);

/// An exact brute-force index searched on the GPU (cuda-flat) for 256-bit
/// codes; throws std::runtime_error without CUDA.
std::unique_ptr<faiss::IndexBinary> make_cuda_flat_index(int d);

/// Hashes the PDQ that FileHasher deferred (HashOptions::defer_pdq, the
/// image waiting in HashRecord::pdq_pending) in batches on a CUDA device,
/// bit-identical to the CPU path. CUDA-free: callers never see the runtime.
class GpuPdqHasher {
 public:
  /// A hasher on CUDA device 0 with its streams and buffers; throws
  /// std::runtime_error saying why when the build has no CUDA or the machine
  /// no device.
  static std::unique_ptr<GpuPdqHasher> create();
  virtual ~GpuPdqHasher() = default;

  /// For every record with pdq_pending: sets the PDQ fields as FileHasher
  /// would have (hash, quality, below-minimum flag, with `dihedral` the 8
  /// dihedral hashes) and resets pdq_pending; other records are left alone.
  /// Synchronous. Calls must not overlap, but may come from any thread in
  /// turn. Throws std::runtime_error on a device failure; the records not
  /// hashed keep pdq_pending, so the caller can hash them on the CPU.
  virtual void hash(const std::vector<HashRecord*>& records, bool dihedral) = 0;
  /// The device's name, as `hashmatch info` shows it.
  virtual const std::string& device_name() const = 0;
};

/// Build facts for `hashmatch info`: "key: value" pairs in display order.
std::vector<std::pair<std::string, std::string>> build_facts();

}  // namespace hm
