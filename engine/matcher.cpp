#include "matcher.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace hm {

MatchQuery match_query_of(const HashRecord& r) {
  MatchQuery q;
  q.has_pdq = r.has_pdq;
  q.pdq = r.pdq;
  if (r.has_pdq) q.quality = r.quality;
  q.has_dihedral = r.has_dihedral;
  q.dihedral = r.dihedral;
  q.md5 = r.md5;
  q.sha1 = r.sha1;
  q.sha256 = r.sha256;
  return q;
}

void attach_matches(MatchOutcome&& outcome, HashRecord& record) {
  record.has_matches = true;
  record.low_quality = outcome.low_quality;
  record.matches = std::move(outcome.matches);
}

namespace {

bool gated(const MatchQuery& q, const MatchOptions& options) {
  return q.quality && *q.quality < options.min_quality;
}

const std::string& digest_of(const MatchQuery& q, SignalType signal) {
  switch (signal) {
    case SignalType::Md5: return q.md5;
    case SignalType::Sha1: return q.sha1;
    default: return q.sha256;
  }
}

}  // namespace

Matcher::Matcher(std::vector<NamedIndex> lists, MatchOptions options)
    : lists_(std::move(lists)), options_(options) {
  if (options_.threshold && (*options_.threshold < 0 || *options_.threshold > 256))
    throw std::invalid_argument("threshold must be between 0 and 256");
}

void Matcher::prepare_search() const {
  for (const NamedIndex& list : lists_) list.index->prepare_search();
}

bool Matcher::concurrent_search() const {
  for (const NamedIndex& list : lists_)
    if (!list.index->concurrent_search()) return false;
  return true;
}

std::vector<MatchOutcome> Matcher::match(const std::vector<MatchQuery>& queries) const {
  std::vector<MatchOutcome> out(queries.size());
  for (size_t q = 0; q < queries.size(); ++q)
    out[q].low_quality = queries[q].has_pdq && gated(queries[q], options_);
  for (const NamedIndex& list : lists_) {
    if (signal_is_perceptual(list.index->signal())) match_pdq_list(list, queries, out);
    else match_digest_list(list, queries, out);
  }
  return out;
}

Match Matcher::make_match(const NamedIndex& list, const IndexHit& hit, int transform) const {
  const HashIndex& index = *list.index;
  Match m;
  m.list = list.name;
  m.signal = signal_name(index.signal());
  m.id = std::string(index.id((size_t)hit.ref));
  m.hash = index.hash_hex((size_t)hit.ref);
  m.distance = hit.distance;
  m.transform = transform;
  const auto& columns = index.metadata_columns();
  for (size_t c = 0; c < columns.size(); ++c)
    m.metadata.emplace_back(columns[c], std::string(index.metadata((size_t)hit.ref, c)));
  return m;
}

void Matcher::match_pdq_list(const NamedIndex& list, const std::vector<MatchQuery>& queries,
                             std::vector<MatchOutcome>& out) const {
  // One row per hash to search: the plain hash, or all 8 dihedral hashes.
  std::vector<uint8_t> rows;
  std::vector<std::pair<size_t, int>> row_source;  // (query, transform)
  for (size_t q = 0; q < queries.size(); ++q) {
    const MatchQuery& query = queries[q];
    if (!query.has_pdq || gated(query, options_)) continue;
    const bool all = options_.dihedral && query.has_dihedral;
    for (int t = 0; t < (all ? pdq::kDihedralCount : 1); ++t) {
      const pdq::Hash256& h = all ? query.dihedral[t] : query.pdq;
      rows.insert(rows.end(), h.begin(), h.end());
      row_source.emplace_back(q, t);
    }
  }
  if (row_source.empty()) return;
  const HashIndex& index = *list.index;
  const int threshold = options_.threshold.value_or(index.default_threshold());
  const IndexHits hits = options_.top_k ? index.top_k(rows.data(), row_source.size(), options_.top_k, threshold)
                                        : index.range(rows.data(), row_source.size(), threshold);

  // Per query: each reference once, at its smallest distance over transforms.
  size_t row = 0;
  while (row < row_source.size()) {
    const size_t q = row_source[row].first;
    std::unordered_map<int64_t, std::pair<int, int>> best;  // ref -> (distance, transform)
    for (; row < row_source.size() && row_source[row].first == q; ++row) {
      const int t = row_source[row].second;
      for (const IndexHit& h : hits[row]) {
        auto [it, fresh] = best.emplace(h.ref, std::make_pair(h.distance, t));
        if (!fresh && h.distance < it->second.first) it->second = {h.distance, t};
      }
    }
    std::vector<std::pair<IndexHit, int>> merged;
    merged.reserve(best.size());
    for (const auto& [ref, dt] : best) merged.push_back({IndexHit{ref, dt.first}, dt.second});
    std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) {
      return a.first.distance != b.first.distance ? a.first.distance < b.first.distance
                                                  : a.first.ref < b.first.ref;
    });
    if (options_.top_k && merged.size() > options_.top_k) merged.resize(options_.top_k);
    for (const auto& [hit, t] : merged) out[q].matches.push_back(make_match(list, hit, t));
  }
}

void Matcher::match_digest_list(const NamedIndex& list, const std::vector<MatchQuery>& queries,
                                std::vector<MatchOutcome>& out) const {
  const HashIndex& index = *list.index;
  const int bytes = signal_code_bytes(index.signal());
  std::vector<uint8_t> code(bytes);
  for (size_t q = 0; q < queries.size(); ++q) {
    const std::string& hex = digest_of(queries[q], index.signal());
    if (hex.empty() || !parse_hex_code(hex, bytes, code.data())) continue;
    IndexHits hits = index.range(code.data(), 1, 0);
    if (options_.top_k && hits[0].size() > options_.top_k) hits[0].resize(options_.top_k);
    for (const IndexHit& h : hits[0]) out[q].matches.push_back(make_match(list, h, 0));
  }
}

}  // namespace hm
