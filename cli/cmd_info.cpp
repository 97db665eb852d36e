// hashmatch info: what this build and this machine offer (build options,
// CPU features, CUDA devices), for bug reports and benchmark notes.
#include <faiss/Index.h>
#include <omp.h>
#include <stdio.h>

#include <thread>

#include "args.hpp"
#include "backend.hpp"
#include "commands.hpp"
#include "hamming_cpu.hpp"
#include "json.hpp"

namespace hm::cli {

namespace {

const char kInfoHelp[] = R"(Usage: hashmatch info [--format text|json]

Prints the build (version, compiler, whether CUDA is compiled in), the CPU
features the search kernels use, the CUDA devices, and which backend
'--backend auto' picks on this machine.
)";

std::string cpu_features() {
  std::string out;
  auto add = [&](const char* name, bool present) {
    if (!present) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  __builtin_cpu_init();
  add("popcnt", __builtin_cpu_supports("popcnt"));
  add("avx2", __builtin_cpu_supports("avx2"));
  add("avx512f", __builtin_cpu_supports("avx512f"));
  add("avx512vpopcntdq", __builtin_cpu_supports("avx512vpopcntdq"));
  return out;
}

}  // namespace

int run_info(const std::vector<std::string>& args) {
  const ParsedArgs parsed = parse_args(args, {{"format", 0, true}, {"help", 'h', false}});
  bool json = false;
  for (const auto& opt : parsed.options) {
    if (opt.name == "help") {
      fputs(kInfoHelp, stdout);
      return kExitOk;
    }
    if (opt.value == "json") json = true;
    else if (opt.value != "text") throw UsageError("unknown --format '" + opt.value + "' (text, json)");
  }
  if (!parsed.operands.empty()) throw UsageError("unexpected operand '" + parsed.operands[0] + "'");

  std::vector<std::pair<std::string, std::string>> facts = build_facts();
  facts.emplace_back("faiss", std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) +
                                  "." + std::to_string(FAISS_VERSION_PATCH));
  facts.emplace_back("cpu cores", std::to_string(std::thread::hardware_concurrency()));
  facts.emplace_back("cpu features", cpu_features());
  facts.emplace_back("search kernel", popcount_kernel_name(popcount_kernel_best()));
  const std::vector<GpuDevice> devices = gpu_devices();
  facts.emplace_back("cuda devices", std::to_string(devices.size()));
  facts.emplace_back("backend auto", backend_name(resolve_backend(BackendChoice::Auto)));

  if (json) {
    std::string out = "{";
    for (const auto& [key, value] : facts) {
      if (out.size() > 1) out += ',';
      append_json_string(out, key);
      out += ':';
      append_json_string(out, value);
    }
    out += ",\"gpus\":[";
    for (size_t i = 0; i < devices.size(); ++i) {
      const GpuDevice& d = devices[i];
      if (i) out += ',';
      out += "{\"index\":" + std::to_string(d.index) + ",\"name\":";
      append_json_string(out, d.name);
      out += ",\"compute_capability\":\"" + std::to_string(d.compute_major) + "." +
             std::to_string(d.compute_minor) + "\",\"multiprocessors\":" + std::to_string(d.multiprocessors) +
             ",\"memory_bytes\":" + std::to_string(d.memory_bytes) + "}";
    }
    out += "]}\n";
    fputs(out.c_str(), stdout);
    return kExitOk;
  }
  for (const auto& [key, value] : facts) printf("%-14s %s\n", (key + ":").c_str(), value.c_str());
  for (const GpuDevice& d : devices)
    printf("gpu %d:          %s, compute capability %d.%d, %d SMs, %.1f GiB\n", d.index, d.name.c_str(),
           d.compute_major, d.compute_minor, d.multiprocessors, (double)d.memory_bytes / (1u << 30));
  return kExitOk;
}

}  // namespace hm::cli
