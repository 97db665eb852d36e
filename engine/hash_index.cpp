#include "hash_index.hpp"

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "index_file.hpp"
#include "index_flat.hpp"
#include "index_mih.hpp"

namespace hm {

const char kIndexTypesHelp[] =
    "auto (exact: flat below 65536 references, mih above), flat, mih[,bits=B], cuda-flat (exact, GPU), "
    "hnsw[,M=32,ef=128,k=128] (approximate), ivf[,nlist=N,nprobe=16] (approximate); "
    "digest lists always use set";

namespace {

constexpr size_t kMihFromSize = 65536;

bool is_faiss_type(const std::string& type) { return type == "hnsw" || type == "ivf"; }

// IVF lists: about 4 sqrt(N), at least 1, and never more than the training
// sample supports (FAISS warns below 39 points per centroid).
int default_nlist(size_t n) {
  const double lists = 4.0 * std::sqrt((double)n);
  return (int)std::clamp(lists, 1.0, std::max(1.0, (double)n / 39.0));
}

/// hnsw's search breadth (efSearch) unless the spec says ef=.
constexpr int kDefaultHnswEf = 128;

void apply_search_params(faiss::IndexBinary& index, const IndexSpec& spec) {
  if (auto* hnsw = dynamic_cast<faiss::IndexBinaryHNSW*>(&index)) {
    hnsw->hnsw.efSearch = spec.param("ef", kDefaultHnswEf);
  } else if (auto* ivf = dynamic_cast<faiss::IndexBinaryIVF*>(&index)) {
    ivf->nprobe = (size_t)std::max(1, spec.param("nprobe", 16));
  }
}

// Known parameters per type, so a typo is an error rather than ignored.
void check_params(const IndexSpec& spec) {
  static const std::map<std::string, std::vector<std::string>> known = {
      {"flat", {}}, {"cuda-flat", {}}, {"set", {}}, {"auto", {}}, {"mih", {"bits"}},
      {"hnsw", {"M", "ef", "efc", "k"}}, {"ivf", {"nlist", "nprobe"}}};
  const auto it = known.find(spec.type);
  if (it == known.end())
    throw std::invalid_argument("unknown index type '" + spec.type + "': " + kIndexTypesHelp);
  for (const auto& [name, value] : spec.params) {
    if (std::find(it->second.begin(), it->second.end(), name) == it->second.end())
      throw std::invalid_argument("index type '" + spec.type + "' has no parameter '" + name + "'");
    if (value < 0) throw std::invalid_argument("index parameter '" + name + "' must be >= 0");
  }
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void sort_hits(std::vector<IndexHit>& hits) {
  std::sort(hits.begin(), hits.end(), [](const IndexHit& a, const IndexHit& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.ref < b.ref;
  });
}

}  // namespace

IndexSpec IndexSpec::parse(const std::string& text) {
  IndexSpec spec;
  size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (first) {
      spec.type = part;
      first = false;
    } else {
      const size_t eq = part.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == part.size())
        throw std::invalid_argument("index parameter '" + part + "' is not NAME=VALUE");
      const std::string value = part.substr(eq + 1);
      size_t used = 0;
      long v = 0;
      try {
        v = std::stol(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size() || v < 0 || v > (1L << 30))
        throw std::invalid_argument("index parameter '" + part + "' needs a non-negative integer");
      spec.params[part.substr(0, eq)] = (int)v;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (spec.type.empty()) throw std::invalid_argument("empty index type");
  check_params(spec);
  return spec;
}

std::string IndexSpec::to_string() const {
  std::string out = type;
  for (const auto& [name, value] : params) out += "," + name + "=" + std::to_string(value);
  return out;
}

int IndexSpec::param(const std::string& name, int fallback) const {
  const auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

HashIndex::HashIndex() = default;
HashIndex::~HashIndex() = default;
HashIndex::HashIndex(HashIndex&&) noexcept = default;
HashIndex& HashIndex::operator=(HashIndex&&) noexcept = default;

bool HashIndex::exact() const { return !is_faiss_type(spec_.type); }

bool HashIndex::concurrent_search() const {
  return spec_.type == "flat" || spec_.type == "mih" || spec_.type == "set";
}

HashIndex HashIndex::build(RefList list, const IndexSpec& requested) {
  HashIndex out;
  out.signal_ = list.signal;
  out.source_ = list.source;
  out.skipped_lines_ = list.skipped_lines;
  out.spec_ = requested;
  if (!signal_is_perceptual(list.signal)) {
    if (requested.type != "auto" && requested.type != "set")
      throw std::invalid_argument(std::string(signal_name(list.signal)) +
                                  " lists are matched exactly by lookup: use index type set (or auto)");
    out.spec_ = IndexSpec{"set", {}};
  } else if (requested.type == "set") {
    throw std::invalid_argument("index type set is for digest lists; PDQ lists use " +
                                std::string(kIndexTypesHelp));
  } else if (requested.type == "auto") {
    out.spec_ = IndexSpec{list.size() >= kMihFromSize ? "mih" : "flat", {}};
  }
  size_t id_bytes = 0;
  for (const auto& id : list.ids) id_bytes += id.size();
  out.ids_.reserve(list.size(), id_bytes);
  for (const auto& id : list.ids) out.ids_.push_back(id);
  list.ids = {};
  out.metadata_columns_ = list.metadata_columns;
  for (const auto& v : list.metadata_values) out.metadata_values_.push_back(v);
  list.metadata_values = {};
  out.build_search_structure(list.codes.data());
  return out;
}

void HashIndex::build_search_structure(const uint8_t* codes) {
  const size_t n = size();
  const int bytes = signal_code_bytes(signal_);
  const std::string& type = spec_.type;
  if (type == "set") {
    set_codes_.assign(codes, codes + n * bytes);
    set_order_.resize(n);
    for (size_t i = 0; i < n; ++i) set_order_[i] = (uint32_t)i;
    const uint8_t* base = set_codes_.data();
    std::stable_sort(set_order_.begin(), set_order_.end(), [&](uint32_t a, uint32_t b) {
      return memcmp(base + (size_t)a * bytes, base + (size_t)b * bytes, bytes) < 0;
    });
    return;
  }
  const int d = bytes * 8;
  if (type == "flat") {
    index_ = std::make_unique<FlatIndex>(d);
  } else if (type == "cuda-flat") {
    index_ = make_cuda_flat_index(d);
  } else if (type == "mih") {
    index_ = std::make_unique<MihIndex>(d, spec_.param("bits", 0));
  } else if (type == "hnsw") {
    auto hnsw = std::make_unique<faiss::IndexBinaryHNSW>(d, std::max(4, spec_.param("M", 32)));
    hnsw->hnsw.efConstruction = std::max(16, spec_.param("efc", 64));
    index_ = std::move(hnsw);
  } else if (type == "ivf") {
    const int nlist = std::max(1, spec_.param("nlist", default_nlist(n)));
    auto ivf = std::make_unique<faiss::IndexBinaryIVF>(new faiss::IndexBinaryFlat(d), d, (size_t)nlist);
    ivf->own_fields = true;
    if (n > 0) ivf->train((faiss::IndexBinary::idx_t)n, codes);
    ivf->make_direct_map();  // so hash_hex can reconstruct a reference
    index_ = std::move(ivf);
  } else {
    throw std::invalid_argument("unknown index type '" + type + "'");
  }
  apply_search_params(*index_, spec_);
  if (n > 0) index_->add((faiss::IndexBinary::idx_t)n, codes);
}

void HashIndex::code_of(size_t ref, uint8_t* out) const {
  const int bytes = signal_code_bytes(signal_);
  if (index_) index_->reconstruct((faiss::IndexBinary::idx_t)ref, out);
  else memcpy(out, set_codes_.data() + ref * bytes, bytes);
}

std::string HashIndex::hash_hex(size_t ref) const {
  uint8_t code[64];
  code_of(ref, code);
  return hex_of_code(code, signal_code_bytes(signal_));
}

void HashIndex::prepare_search() const {
  if (auto* mih = dynamic_cast<const MihIndex*>(index_.get())) mih->build_tables();
}

size_t HashIndex::index_memory_bytes() const {
  if (!index_) return set_codes_.capacity() + set_order_.capacity() * sizeof(uint32_t);
  if (auto* flat = dynamic_cast<const FlatIndex*>(index_.get())) return flat->memory_bytes();
  if (auto* mih = dynamic_cast<const MihIndex*>(index_.get())) return mih->memory_bytes();
  const size_t codes = size() * (size_t)signal_code_bytes(signal_);
  if (spec_.type == "cuda-flat") return codes;  // the host copy; the GPU holds another
  // FAISS's own indexes: the codes plus their graph or lists, roughly.
  if (auto* hnsw = dynamic_cast<const faiss::IndexBinaryHNSW*>(index_.get()))
    return codes + hnsw->hnsw.neighbors.size() * sizeof(int32_t) + hnsw->hnsw.offsets.size() * 8;
  return codes + size() * sizeof(int64_t) * 2;
}

IndexHits HashIndex::range(const uint8_t* queries, size_t nq, int max_distance) const {
  IndexHits hits(nq);
  if (nq == 0 || size() == 0 || max_distance < 0) return hits;
  const int bytes = signal_code_bytes(signal_);
  if (!index_) {
    for (size_t q = 0; q < nq; ++q) {
      const uint8_t* code = queries + q * bytes;
      const uint8_t* base = set_codes_.data();
      auto lo = std::lower_bound(set_order_.begin(), set_order_.end(), code, [&](uint32_t r, const uint8_t* c) {
        return memcmp(base + (size_t)r * bytes, c, bytes) < 0;
      });
      for (; lo != set_order_.end() && memcmp(base + (size_t)*lo * bytes, code, bytes) == 0; ++lo)
        hits[q].push_back(IndexHit{*lo, 0});  // stable sort kept equal codes in ref order
    }
    return hits;
  }
  if (spec_.type == "hnsw") {
    // FAISS's binary HNSW has no range search: take the k nearest it finds
    // and keep those within the distance (approximate by nature).
    return top_k(queries, nq, (size_t)std::max(1, spec_.param("k", 128)), max_distance);
  }
  faiss::RangeSearchResult result(nq);
  // FAISS returns distances strictly below the radius.
  index_->range_search((faiss::IndexBinary::idx_t)nq, queries, max_distance + 1, &result);
  for (size_t q = 0; q < nq; ++q) {
    for (size_t j = result.lims[q]; j < result.lims[q + 1]; ++j)
      hits[q].push_back(IndexHit{result.labels[j], (int32_t)result.distances[j]});
    sort_hits(hits[q]);
  }
  return hits;
}

IndexHits HashIndex::top_k(const uint8_t* queries, size_t nq, size_t k, int max_distance) const {
  if (!index_) {
    IndexHits hits = range(queries, nq, max_distance);
    for (auto& h : hits)
      if (h.size() > k) h.resize(k);
    return hits;
  }
  IndexHits hits(nq);
  if (nq == 0 || size() == 0 || k == 0 || max_distance < 0) return hits;
  k = std::min(k, size());
  std::vector<int32_t> distances(nq * k);
  std::vector<faiss::IndexBinary::idx_t> labels(nq * k);
  {
    // FAISS's HNSW needs efSearch >= k, a setting of the index itself: each
    // call sets max(the index's ef, k), so results depend on k alone, never
    // on earlier calls, and sets and searches under a lock, so that
    // concurrent callers never race on it.
    auto* hnsw = dynamic_cast<faiss::IndexBinaryHNSW*>(index_.get());
    std::unique_lock<std::mutex> lock(*hnsw_mutex_, std::defer_lock);
    if (hnsw) {
      lock.lock();
      hnsw->hnsw.efSearch = std::max(spec_.param("ef", kDefaultHnswEf), (int)k);
    }
    index_->search((faiss::IndexBinary::idx_t)nq, queries, (faiss::IndexBinary::idx_t)k,
                   distances.data(), labels.data());
  }
  for (size_t q = 0; q < nq; ++q) {
    for (size_t j = 0; j < k; ++j) {
      const auto label = labels[q * k + j];
      const int32_t dist = distances[q * k + j];
      if (label >= 0 && dist <= max_distance) hits[q].push_back(IndexHit{label, dist});
    }
    sort_hits(hits[q]);
  }
  return hits;
}

void HashIndex::use_backend(Backend backend) {
  if (backend != Backend::Cuda || !index_ || !exact() || spec_.type == "cuda-flat") return;
  const int bytes = signal_code_bytes(signal_);
  std::vector<uint8_t> codes(size() * bytes);
  if (size() > 0) index_->reconstruct_n(0, (faiss::IndexBinary::idx_t)size(), codes.data());
  index_.reset();  // free the CPU structure before the GPU copy is made
  spec_ = IndexSpec{"cuda-flat", {}};
  build_search_structure(codes.data());
}

// ---- index files -----------------------------------------------------------

void HashIndex::save(const std::string& path) const {
  const int bytes = signal_code_bytes(signal_);
  std::vector<uint8_t> codes(size() * bytes);
  for (size_t i = 0; i < size(); ++i) code_of(i, codes.data() + i * bytes);

  nlohmann::ordered_json head = {
      {"format", "hashmatch-index"},   {"signal", signal_name(signal_)},
      {"type", spec_.type == "cuda-flat" ? std::string("flat") : type()}, {"exact", exact()},
      {"count", size()},               {"threshold", default_threshold()},
      {"source", source_},             {"skipped_lines", skipped_lines_},
      {"metadata_columns", metadata_columns_},
      {"created", utc_now()},          {"hashmatch", HM_VERSION}};
  const std::string head_text = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  IndexFileWriter file;
  file.add_section("HEAD", std::vector<uint8_t>(head_text.begin(), head_text.end()));
  file.add_section("CODE", std::move(codes));
  file.add_section("IDS ", encode_strings(ids_));
  if (!metadata_columns_.empty()) file.add_section("META", encode_strings(metadata_values_));
  if (is_faiss_type(spec_.type)) {
    faiss::VectorIOWriter writer;
    faiss::write_index_binary(index_.get(), &writer);
    file.add_section("FAIS", std::move(writer.data));
  }
  file.write(path);
}

HashIndex HashIndex::load(const std::string& path) {
  const IndexFileReader file(path);
  auto fail = [&](const std::string& why) { return IndexFileError(path + ": " + why); };
  nlohmann::json head;
  try {
    head = nlohmann::json::parse(file.section("HEAD"));
  } catch (const nlohmann::json::exception&) {
    throw fail("corrupt index (unreadable header)");
  }
  HashIndex out;
  try {
    if (head.at("format") != "hashmatch-index") throw fail("not a hashmatch index header");
    const auto signal = parse_signal_name(head.at("signal").get<std::string>());
    if (!signal) throw fail("unknown signal type '" + head.at("signal").get<std::string>() + "'");
    out.signal_ = *signal;
    out.spec_ = IndexSpec::parse(head.at("type").get<std::string>());
    out.source_ = head.at("source").get<std::string>();
    out.skipped_lines_ = head.value("skipped_lines", (size_t)0);
    out.metadata_columns_ = head.at("metadata_columns").get<std::vector<std::string>>();
    const size_t count = head.at("count").get<size_t>();
    const size_t bytes = (size_t)signal_code_bytes(out.signal_);
    const std::string_view codes = file.section("CODE");
    if (codes.size() != count * bytes)
      throw fail("corrupt index (" + std::to_string(codes.size()) + " code bytes for " +
                 std::to_string(count) + " entries)");
    out.ids_ = decode_strings(file.section("IDS "), count, "ids");
    if (!out.metadata_columns_.empty())
      out.metadata_values_ = decode_strings(file.section("META"), count * out.metadata_columns_.size(), "metadata");
    if (is_faiss_type(out.spec_.type)) {
      faiss::VectorIOReader reader;
      const std::string_view blob = file.section("FAIS");
      reader.data.assign(blob.begin(), blob.end());
      out.index_.reset(faiss::read_index_binary(&reader));
      if (!out.index_ || (size_t)out.index_->ntotal != count || out.index_->d != (int)bytes * 8)
        throw fail("corrupt index (FAISS index does not match the header)");
      apply_search_params(*out.index_, out.spec_);
    } else {
      out.build_search_structure(reinterpret_cast<const uint8_t*>(codes.data()));
    }
  } catch (const IndexFileError& e) {
    const std::string what = e.what();
    throw what.rfind(path, 0) == 0 ? e : fail(what);
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("corrupt index header (") + e.what() + ")");
  } catch (const faiss::FaissException& e) {
    throw fail(std::string("corrupt FAISS index section (") + e.what() + ")");
  } catch (const std::invalid_argument& e) {
    throw fail(std::string("corrupt index header (") + e.what() + ")");
  }
  return out;
}

}  // namespace hm
