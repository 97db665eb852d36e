// A program built on the hashmatch library (hm::engine) rather than the CLI:
// scans a directory tree with the engine's streaming pipeline and matches
// every file against one PDQ list, printing a line per file in input order:
//   PATH ok PDQ-HEX QUALITY MATCHES   or   PATH error REASON
// Usage: hm_example_scan DIR PDQ-LIST (CSV, TSV or one hash per line)
#include <stdio.h>

#include <exception>
#include <memory>
#include <thread>

#include "matcher.hpp"
#include "path_source.hpp"
#include "reflist.hpp"
#include "scan_pipeline.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s DIR PDQ-LIST\n", argv[0]);
    return 2;
  }
  try {
    auto index = std::make_shared<const hm::HashIndex>(
        hm::HashIndex::build(hm::load_reflist(argv[2], {}), hm::IndexSpec::parse("mih")));
    hm::Matcher matcher({hm::NamedIndex{"known", index}}, hm::MatchOptions{});

    hm::SourceOptions walk;
    walk.recursive = true;
    hm::PathSource source({argv[1]}, walk);
    hm::PipelineOptions options;
    options.threads = (int)std::thread::hardware_concurrency();
    options.matcher = &matcher;
    hm::ScanPipeline pipeline(options);
    int failed = 0;
    pipeline.run([&](hm::SourceItem& item) { return source.next(item); },
                 [&](std::vector<hm::HashRecord>& records) {
                   for (const hm::HashRecord& r : records) {
                     if (!r.error.empty()) {
                       ++failed;
                       printf("%s error %s\n", r.path.c_str(), r.error.c_str());
                     } else {
                       printf("%s ok %s %d %zu\n", r.path.c_str(), hm::pdq_hex(r.pdq).c_str(),
                              r.quality, r.matches.size());
                     }
                   }
                 });
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    fprintf(stderr, "hm_example_scan: %s\n", e.what());
    return 2;
  }
}
