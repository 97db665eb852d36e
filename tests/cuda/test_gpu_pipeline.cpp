// The hash pipeline's GPU path against its CPU path, record for record: the
// engine's deferred PDQ (FileHasher with defer_pdq, then GpuPdqHasher) and the
// CLI (--backend cuda against --backend cpu, byte for byte), over every golden
// image. Without a CUDA device every test is skipped.
#include <gtest/gtest.h>

#include <limits.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend.hpp"
#include "file_hasher.hpp"
#include "hash_record.hpp"
#include "pdq_gpu.hpp"
#include "preresize_sink.hpp"
#include "scan_pipeline.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kImages = std::string(HM_TEST_DATA) + "/pdq-golden/images";

#define HM_REQUIRE_CUDA_DEVICE()                                                                      \
  do {                                                                                                \
    if (!hm::cuda_device_available())                                                                 \
      GTEST_SKIP() << "no CUDA device: the CUDA runtime found none, so the GPU pipeline is untested"; \
  } while (0)

std::vector<std::string> golden_paths() {
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(kImages)) paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string hex(const hm::pdq::Hash256& h) { return hm::pdq_hex(h); }

/// Every field a report shows, with what differs in the message.
void expect_same_record(const hm::HashRecord& cpu, const hm::HashRecord& gpu) {
  SCOPED_TRACE(cpu.path);
  EXPECT_EQ(cpu.path, gpu.path);
  EXPECT_EQ(cpu.error, gpu.error);
  EXPECT_EQ(cpu.warnings, gpu.warnings);
  EXPECT_EQ(cpu.format, gpu.format);
  EXPECT_EQ(cpu.width, gpu.width);
  EXPECT_EQ(cpu.height, gpu.height);
  EXPECT_EQ(cpu.md5, gpu.md5);
  EXPECT_EQ(cpu.sha256, gpu.sha256);
  EXPECT_FALSE(gpu.pdq_pending) << "left unhashed";
  EXPECT_EQ(cpu.has_pdq, gpu.has_pdq);
  EXPECT_EQ(hex(cpu.pdq), hex(gpu.pdq));
  EXPECT_EQ(cpu.quality, gpu.quality);
  EXPECT_EQ(cpu.pdq_below_min_size, gpu.pdq_below_min_size);
  EXPECT_EQ(cpu.has_dihedral, gpu.has_dihedral);
  for (int t = 0; t < hm::pdq::kDihedralCount; ++t)
    EXPECT_EQ(hex(cpu.dihedral[t]), hex(gpu.dihedral[t])) << "dihedral " << t;
}

/// The golden set through FileHasher (CPU) and deferred + GpuPdqHasher, in
/// batches of `batch` records.
void check_engine_parity(bool dihedral, size_t batch) {
  SCOPED_TRACE(std::string(dihedral ? "dihedral" : "plain") + ", batches of " + std::to_string(batch));
  hm::HashOptions options;
  options.dihedral = dihedral;
  hm::FileHasher cpu_hasher(options);
  options.defer_pdq = true;
  hm::FileHasher deferring(options);
  const std::unique_ptr<hm::GpuPdqHasher> gpu = hm::GpuPdqHasher::create();
  const std::vector<std::string> paths = golden_paths();
  ASSERT_EQ(paths.size(), 401u);
  std::vector<hm::HashRecord> cpu_records, gpu_records;
  size_t deferred = 0;
  for (const std::string& p : paths) {
    cpu_records.push_back(cpu_hasher.hash_file(p));
    gpu_records.push_back(deferring.hash_file(p));
    EXPECT_FALSE(gpu_records.back().has_pdq) << p;
    if (gpu_records.back().pdq_pending) ++deferred;
  }
  EXPECT_GT(deferred, 390u);
  for (size_t first = 0; first < gpu_records.size(); first += batch) {
    std::vector<hm::HashRecord*> pointers;
    for (size_t i = first; i < std::min(first + batch, gpu_records.size()); ++i)
      pointers.push_back(&gpu_records[i]);
    gpu->hash(pointers, dihedral);
  }
  for (size_t i = 0; i < paths.size(); ++i) expect_same_record(cpu_records[i], gpu_records[i]);
}

TEST(GpuPipeline, DeferredGoldenRecordsMatchCpu) {
  HM_REQUIRE_CUDA_DEVICE();
  check_engine_parity(true, 1000);
  check_engine_parity(true, 1);
  check_engine_parity(false, 37);
}

/// Every golden image through ScanPipeline on `backend`, in input order.
std::vector<hm::HashRecord> pipeline_records(hm::Backend backend, size_t batch) {
  hm::PipelineOptions options;
  options.hash.dihedral = true;
  options.threads = 4;
  options.backend = backend;
  options.batch = batch;
  hm::ScanPipeline pipeline(options);
  EXPECT_EQ(pipeline.pdq_on_gpu(), backend == hm::Backend::Cuda);
  const auto paths = golden_paths();
  size_t next = 0;
  std::vector<hm::HashRecord> records;
  pipeline.run(
      [&](hm::SourceItem& item) {
        if (next == paths.size()) return false;
        item = {paths[next++], ""};
        return true;
      },
      [&](std::vector<hm::HashRecord>& group) {
        EXPECT_LE(group.size(), batch);
        for (auto& r : group) records.push_back(std::move(r));
      });
  return records;
}

TEST(GpuPipeline, ScanPipelineOnTheGpuMatchesTheCpu) {
  HM_REQUIRE_CUDA_DEVICE();
  const auto cpu = pipeline_records(hm::Backend::Cpu, 64);
  const auto gpu = pipeline_records(hm::Backend::Cuda, 64);
  ASSERT_EQ(cpu.size(), golden_paths().size());
  ASSERT_EQ(gpu.size(), cpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) expect_same_record(cpu[i], gpu[i]);
}

TEST(GpuPipeline, PreresizedImagesOnTheGpuMatchTheCpuTwin) {
  HM_REQUIRE_CUDA_DEVICE();
  // Seeded synthetic images of awkward sizes straight into GpuPdqHasher, against
  // hash_preresized_cpu: grey, RGB and grey-flagged RGB, 1 to 512 px.
  const unsigned seed = 4242;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int sides[] = {1, 4, 5, 31, 33, 63, 64, 65, 511, 512};
  std::vector<hm::HashRecord> records;
  std::vector<hm::pdq::PdqResult> want;
  hm::pdq::PdqScratch scratch;
  for (int w : sides)
    for (int h : sides)
      for (int kind = 0; kind < 3; ++kind) {
        auto image = std::make_shared<hm::PreresizedImage>();
        image->width = w;
        image->height = h;
        image->layout = kind == 1 ? hm::pdq::PixelLayout::Rgb : hm::pdq::PixelLayout::Grey;
        image->grey = kind == 2;
        if (kind == 2) image->layout = hm::pdq::PixelLayout::Rgb;
        image->pixels.resize((size_t)w * h * hm::pdq::bytes_per_pixel(image->layout));
        for (size_t i = 0; i < image->pixels.size(); ++i) image->pixels[i] = (uint8_t)(rng() >> 24);
        if (kind == 2)  // R = G = B, as the flag promises
          for (size_t i = 0; i + 2 < image->pixels.size(); i += 3)
            image->pixels[i + 1] = image->pixels[i + 2] = image->pixels[i];
        want.emplace_back();
        hm::hash_preresized_cpu(*image, true, want.back(), scratch);
        hm::HashRecord r;
        r.path = std::to_string(w) + "x" + std::to_string(h) + " kind " + std::to_string(kind);
        r.pdq_pending = image;
        records.push_back(std::move(r));
      }
  std::vector<hm::HashRecord*> pointers;
  for (auto& r : records) pointers.push_back(&r);
  hm::GpuPdqHasher::create()->hash(pointers, true);
  for (size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE(records[i].path);
    EXPECT_FALSE(records[i].pdq_pending);
    EXPECT_EQ(hex(records[i].pdq), hex(want[i].hash));
    EXPECT_EQ(records[i].quality, want[i].quality);
    EXPECT_EQ(records[i].pdq_below_min_size, want[i].below_min_size);
    for (int t = 0; t < hm::pdq::kDihedralCount; ++t)
      EXPECT_EQ(hex(records[i].dihedral[t]), hex(want[i].dihedral[t]));
  }
}

/// The hashmatch binary: $HM_CLI, else beside this test (packed GPU runs put
/// them together), else where the build made it.
std::string find_cli() {
  if (const char* env = getenv("HM_CLI")) return env;
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = 0;
    const fs::path beside = fs::path(self).parent_path() / "hashmatch";
    if (fs::exists(beside)) return beside.string();
  }
  return HM_CLI;
}

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Runs the CLI with `args` (no shell: arguments go as they are), stdout and
/// stderr to files.
CliRun run_cli(const std::string& cli, const std::vector<std::string>& args, const fs::path& dir) {
  const fs::path out = dir / "out", err = dir / "err";
  CliRun r;
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(127);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(cli.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(cli.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.status = WEXITSTATUS(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

TEST(GpuPipeline, CliCudaBackendMatchesCpuByteForByte) {
  HM_REQUIRE_CUDA_DEVICE();
  const std::string cli = find_cli();
  ASSERT_TRUE(fs::exists(cli)) << "no hashmatch binary at " << cli << " (set HM_CLI)";
  const fs::path dir = fs::temp_directory_path() / ("hm_gpu_pipeline_" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--dihedral"}, {"--format", "csv", "--threads", "3"}}) {
    std::vector<std::string> cpu = {"hash", "-r", "--backend", "cpu"};
    std::vector<std::string> cuda = {"hash", "-r", "--backend", "cuda"};
    for (const auto& e : extra) {
      cpu.push_back(e);
      cuda.push_back(e);
    }
    cpu.push_back(kImages);
    cuda.push_back(kImages);
    const CliRun a = run_cli(cli, cpu, dir);
    const CliRun b = run_cli(cli, cuda, dir);
    ASSERT_EQ(a.status, 1) << a.err;  // the golden set has broken files
    ASSERT_EQ(b.status, a.status) << b.err;
    EXPECT_GT(a.out.size(), 10000u);
    EXPECT_TRUE(a.out == b.out) << "--backend cuda wrote a different report";
    EXPECT_NE(b.err.find("backend cuda"), std::string::npos) << b.err;
    EXPECT_EQ(b.err.find("warning"), std::string::npos) << b.err;  // no fallback to the CPU
  }
  fs::remove_all(dir);
}

}  // namespace
