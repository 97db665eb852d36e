// Matcher: dihedral matching reports the smallest distance and its transform,
// quality gating, digest lists, several lists, top-k, thresholds.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "match_test_support.hpp"
#include "hash_record.hpp"
#include "matcher.hpp"

namespace hm {
namespace {

using test::Code;

constexpr uint64_t kSeed = 77001;

std::shared_ptr<const HashIndex> index_of(const RefList& list, const std::string& type = "flat") {
  return std::make_shared<const HashIndex>(HashIndex::build(list, IndexSpec::parse(type)));
}

pdq::Hash256 hash_of(const Code& c) {
  pdq::Hash256 h{};
  std::copy(c.begin(), c.end(), h.begin());
  return h;
}

MatchQuery dihedral_query(const std::vector<Code>& transforms, int quality = 90) {
  MatchQuery q;
  q.has_pdq = true;
  q.pdq = hash_of(transforms[0]);
  q.quality = quality;
  q.has_dihedral = true;
  for (int t = 0; t < pdq::kDihedralCount; ++t) q.dihedral[t] = hash_of(transforms[t]);
  return q;
}

// Oracle: per reference, the smallest distance over the 8 hashes, first transform on ties.
std::vector<std::tuple<int, int, std::string>> expected_dihedral(const RefList& list,
                                                                 const std::vector<Code>& transforms, int t) {
  std::vector<std::tuple<int, int, std::string>> out;  // (distance, ref, transform name) sorted
  for (size_t r = 0; r < list.size(); ++r) {
    int best = 1000, best_t = 0;
    for (int k = 0; k < pdq::kDihedralCount; ++k) {
      const int d = hamming256(list.code(r), transforms[k].data());
      if (d < best) best = d, best_t = k;
    }
    if (best <= t) out.emplace_back(best, (int)r, kDihedralNames[best_t]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Matcher, DihedralMatchesEveryTransformAtEveryDistance) {
  std::mt19937_64 rng(kSeed);
  std::vector<Code> transforms;
  for (int t = 0; t < pdq::kDihedralCount; ++t) transforms.push_back(test::random_code(rng));
  RefList list;
  for (int i = 0; i < 500; ++i) list.append(test::random_code(rng).data(), "noise" + std::to_string(i));
  for (int t = 0; t < pdq::kDihedralCount; ++t)
    for (int d = 0; d <= 32; d += (t + 1))
      list.append(test::flip_bits(transforms[t], d, rng).data(), "t" + std::to_string(t) + "d" + std::to_string(d));
  for (const std::string type : {"flat", "mih"}) {
    MatchOptions options;
    options.dihedral = true;
    const Matcher matcher({{"known", index_of(list, type)}}, options);
    const auto outcome = matcher.match({dihedral_query(transforms)});
    const auto expected = expected_dihedral(list, transforms, 31);
    ASSERT_EQ(outcome[0].matches.size(), expected.size()) << type;
    for (size_t i = 0; i < expected.size(); ++i) {
      const Match& m = outcome[0].matches[i];
      EXPECT_EQ(m.distance, std::get<0>(expected[i]));
      EXPECT_EQ(m.id, list.ids[std::get<1>(expected[i])]);
      EXPECT_EQ(std::string(kDihedralNames[m.transform]), std::get<2>(expected[i]));
      EXPECT_EQ(m.hash, hex_of_code(list.code(std::get<1>(expected[i])), 32));
      EXPECT_EQ(m.list, "known");
      EXPECT_EQ(m.signal, "pdq");
    }
    // Without dihedral matching only the plain hash counts.
    const Matcher plain({{"known", index_of(list, type)}}, MatchOptions{});
    const auto only_orig = plain.match({dihedral_query(transforms)});
    std::map<std::string, size_t> ref_of_id;
    for (size_t r = 0; r < list.size(); ++r) ref_of_id[list.ids[r]] = r;
    for (const Match& m : only_orig[0].matches) {
      EXPECT_EQ(m.transform, 0);
      EXPECT_EQ(m.distance, hamming256(list.code(ref_of_id.at(m.id)), transforms[0].data()));
    }
    EXPECT_EQ(only_orig[0].matches.size(), test::brute_force(list, transforms[0].data(), 31).size());
  }
}

TEST(Matcher, QualityBelowTheFloorIsReportedNotMatched) {
  std::mt19937_64 rng(kSeed + 1);
  const Code h = test::random_code(rng);
  RefList list;
  list.append(h.data(), "same");
  const auto index = index_of(list);
  MatchQuery q;
  q.has_pdq = true;
  q.pdq = hash_of(h);
  q.quality = 49;
  const Matcher gate({{"l", index}}, MatchOptions{});
  auto out = gate.match({q});
  EXPECT_TRUE(out[0].low_quality);
  EXPECT_TRUE(out[0].matches.empty());
  q.quality = 50;
  out = gate.match({q});
  EXPECT_FALSE(out[0].low_quality);
  EXPECT_EQ(out[0].matches.size(), 1u);
  MatchOptions lenient;
  lenient.min_quality = 0;
  q.quality = 0;
  out = Matcher({{"l", index}}, lenient).match({q});
  EXPECT_EQ(out[0].matches.size(), 1u);
  q.quality.reset();  // bare hashes have no quality: never gated
  EXPECT_EQ(gate.match({q})[0].matches.size(), 1u);
}

TEST(Matcher, DigestListsMatchByEqualityEvenWhenQualityIsLow) {
  std::mt19937_64 rng(kSeed + 2);
  RefList md5;
  md5.signal = SignalType::Md5;
  const Code digest = test::random_code(rng, 16);
  md5.append(digest.data(), "first");
  md5.append(test::random_code(rng, 16).data(), "other");
  md5.append(digest.data(), "second");  // duplicate hash, another id: both reported
  RefList pdqs;
  const Code h = test::random_code(rng);
  pdqs.append(test::flip_bits(h, 3, rng).data(), "near");
  const Matcher matcher({{"pdq-list", index_of(pdqs)}, {"md5-list", index_of(md5, "auto")}}, MatchOptions{});
  MatchQuery q;
  q.has_pdq = true;
  q.pdq = hash_of(h);
  q.quality = 100;
  q.md5 = hex_of_code(digest.data(), 16);
  auto out = matcher.match({q, MatchQuery{}});
  ASSERT_EQ(out[0].matches.size(), 3u);
  EXPECT_EQ(out[0].matches[0].list, "pdq-list");  // lists in the order given
  EXPECT_EQ(out[0].matches[0].distance, 3);
  EXPECT_EQ(out[0].matches[1].id, "first");
  EXPECT_EQ(out[0].matches[2].id, "second");
  EXPECT_EQ(out[0].matches[2].signal, "md5");
  EXPECT_EQ(out[0].matches[2].distance, 0);
  EXPECT_TRUE(out[1].matches.empty());
  q.quality = 10;
  out = matcher.match({q});
  ASSERT_EQ(out[0].matches.size(), 2u);
  EXPECT_TRUE(out[0].low_quality);
  EXPECT_EQ(out[0].matches[0].list, "md5-list");
}

TEST(Matcher, ThresholdAndTopKOverTransforms) {
  std::mt19937_64 rng(kSeed + 3);
  std::vector<Code> transforms;
  for (int t = 0; t < pdq::kDihedralCount; ++t) transforms.push_back(test::random_code(rng));
  RefList list;
  for (int t = 0; t < pdq::kDihedralCount; ++t)
    for (int d = 0; d < 12; ++d) list.append(test::flip_bits(transforms[t], 4 * d + t % 3, rng).data(), "");
  for (const int threshold : {0, 5, 10, 31, 44}) {
    for (const size_t k : {size_t(0), size_t(1), size_t(3), size_t(50)}) {
      MatchOptions options;
      options.dihedral = true;
      options.threshold = threshold;
      options.top_k = k;
      const auto out = Matcher({{"l", index_of(list)}}, options).match({dihedral_query(transforms)});
      auto expected = expected_dihedral(list, transforms, threshold);
      if (k && expected.size() > k) expected.resize(k);
      ASSERT_EQ(out[0].matches.size(), expected.size()) << "threshold " << threshold << " k " << k;
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(out[0].matches[i].distance, std::get<0>(expected[i]));
        EXPECT_EQ(out[0].matches[i].id, list.ids[std::get<1>(expected[i])]);
      }
    }
  }
  EXPECT_THROW(Matcher({}, MatchOptions{257, 0, 50, false}), std::invalid_argument);
}

TEST(Matcher, MetadataColumnsTravelWithTheMatch) {
  std::mt19937_64 rng(kSeed + 4);
  const Code h = test::random_code(rng);
  RefList list;
  list.metadata_columns = {"category", "source"};
  list.append(h.data(), "id-1", {"A1", "hotline"});
  MatchQuery q;
  q.has_pdq = true;
  q.pdq = hash_of(h);
  const auto out = Matcher({{"l", index_of(list)}}, MatchOptions{}).match({q});
  ASSERT_EQ(out[0].matches.size(), 1u);
  const auto& meta = out[0].matches[0].metadata;
  ASSERT_EQ(meta.size(), 2u);
  EXPECT_EQ(meta[0], std::make_pair(std::string("category"), std::string("A1")));
  EXPECT_EQ(meta[1], std::make_pair(std::string("source"), std::string("hotline")));
}

}  // namespace
}  // namespace hm
