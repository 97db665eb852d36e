#include "shard.hpp"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace hm {

namespace {

using nlohmann::json;

/// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit.
uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

/// A decimal number without sign, spaces or excess (at most 10 digits); false otherwise.
bool parse_decimal(std::string_view text, uint64_t& value) {
  if (text.empty() || text.size() > 10) return false;
  value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (uint64_t)(c - '0');
  }
  return true;
}

std::string hex64(uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
  return buf;
}

}  // namespace

const char* const kShardIndexVariables[2] = {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"};

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    h ^= (uint8_t)c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint32_t shard_of(std::string_view path, uint32_t count) {
  return (uint32_t)(fmix64(fnv1a64(path)) % count);
}

ShardSpec parse_shard(std::string_view text,
                      const std::function<const char*(const char*)>& get_env) {
  const std::string shown = "--shard '" + std::string(text) + "'";
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    throw std::invalid_argument(shown + ": expected I/N or auto/N (e.g. 3/8)");
  uint64_t count = 0;
  if (!parse_decimal(text.substr(slash + 1), count) || count < 1 || count > kMaxShards)
    throw std::invalid_argument(shown + ": N must be a number from 1 to " +
                                std::to_string(kMaxShards));
  const std::string_view index_text = text.substr(0, slash);
  uint64_t index = 0;
  if (index_text == "auto") {
    const char* variable = nullptr;
    const char* value = nullptr;
    for (const char* name : kShardIndexVariables)
      if ((value = get_env(name)) != nullptr) {
        variable = name;
        break;
      }
    if (!variable)
      throw std::invalid_argument(shown + ": neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set");
    if (!parse_decimal(value, index))
      throw std::invalid_argument(shown + ": " + variable + "='" + value + "' is not a shard index");
    if (index >= count)
      throw std::invalid_argument(shown + ": " + variable + "=" + value + " is not below " +
                                  std::to_string(count) + " (number the tasks 0 to " +
                                  std::to_string(count - 1) + ")");
  } else if (!parse_decimal(index_text, index) || index >= count) {
    throw std::invalid_argument(shown + ": I must be a number from 0 to " + std::to_string(count - 1) +
                                ", or auto");
  }
  return ShardSpec{(uint32_t)index, (uint32_t)count};
}

std::string shard_manifest_path(const std::string& report) { return report + ".shard.json"; }

std::string run_key(const std::vector<std::string>& operands, const std::string& settings) {
  // Length prefixes keep ("ab","c") and ("a","bc") apart.
  std::string bytes = settings;
  for (const std::string& op : operands) {
    bytes += '\0' + std::to_string(op.size()) + ':';
    bytes += op;
  }
  return hex64(fmix64(fnv1a64(bytes)));
}

void write_shard_manifest(const std::string& path, const ShardManifest& m) {
  json operands = json::array();
  for (const std::string& op : m.operands) operands.push_back(op);
  const json j = {{"hashmatch_shard_manifest", 1},
                  {"shard", m.shard},
                  {"shards", m.shards},
                  {"complete", true},
                  {"records", m.records},
                  {"report_bytes", m.report_bytes},
                  {"format", m.format},
                  {"run_key", m.run_key},
                  {"settings", m.settings},
                  {"operands", operands},
                  {"path_hash", "fmix64(fnv1a64(path)) % shards"},
                  {"version", m.version}};
  // Invalid UTF-8 in an operand becomes U+FFFD: the run_key keeps the bytes.
  const std::string text = j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  const std::string temp = path + ".tmp";
  FILE* f = fopen(temp.c_str(), "w");
  if (!f) throw std::runtime_error("cannot create " + temp + ": " + strerror(errno));
  const bool written = fwrite(text.data(), 1, text.size(), f) == text.size() && fflush(f) == 0 &&
                       fsync(fileno(f)) == 0;
  const int err = errno;
  if (fclose(f) != 0 || !written) {
    unlink(temp.c_str());
    throw std::runtime_error("cannot write " + temp + ": " + strerror(written ? errno : err));
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    unlink(temp.c_str());
    throw std::runtime_error("cannot rename " + temp + " to " + path + ": " + strerror(rename_err));
  }
}

ShardManifest read_shard_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("no manifest " + path + " (the run did not finish)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(path + " is not a JSON manifest: " + e.what());
  }
  ShardManifest m;
  try {
    if (j.at("complete").get<bool>() != true) throw std::runtime_error(path + ": not complete");
    m.shard = j.at("shard").get<uint32_t>();
    m.shards = j.at("shards").get<uint32_t>();
    m.records = j.at("records").get<uint64_t>();
    m.report_bytes = j.at("report_bytes").get<uint64_t>();
    m.format = j.at("format").get<std::string>();
    m.run_key = j.at("run_key").get<std::string>();
    m.settings = j.at("settings").get<std::string>();
    m.operands = j.at("operands").get<std::vector<std::string>>();
    m.version = j.value("version", std::string());
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": bad manifest: " + e.what());
  }
  if (m.shards < 1 || m.shards > kMaxShards || m.shard >= m.shards)
    throw std::runtime_error(path + ": bad manifest: shard " + std::to_string(m.shard) + " of " +
                             std::to_string(m.shards));
  if (m.format != "jsonl" && m.format != "csv")
    throw std::runtime_error(path + ": bad manifest: format '" + m.format + "'");
  return m;
}

void ReportRecordCounter::feed(std::string_view chunk) {
  for (const char c : chunk) {
    if (csv_ && c == '"') in_quotes_ = !in_quotes_;  // a doubled quote toggles twice
    else if (c == '\n' && !in_quotes_) ++lines_;
  }
  if (!chunk.empty()) last_ = chunk.back();
}

uint64_t ReportRecordCounter::records() const {
  if (!csv_) return lines_;
  return lines_ > 0 ? lines_ - 1 : 0;
}

}  // namespace hm
