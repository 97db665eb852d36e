// A hint for large arrays written once (index tables, index file bytes).
#pragma once

#include <stddef.h>
#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace hm {

/// Asks for transparent huge pages over the whole pages inside [p, p + bytes).
/// Arrays of tens of MB otherwise fault in one 4 KiB page at a time, which
/// cost about as much as building a million-reference MIH index (THP is often
/// "madvise" only). Harmless where huge pages are unavailable.
inline void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t(2) << 20;
  if (bytes < kHugePage) return;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace hm
