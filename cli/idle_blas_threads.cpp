#include "idle_blas_threads.hpp"

// FAISS links Debian's pthread OpenBLAS, whose constructor starts a pool of
// BLAS threads that spin on sched_yield for about 2^28 cycles (~0.1 s) before
// they sleep. hashmatch calls BLAS only to train IVF indexes, yet in a short
// `hashmatch hash` run those spinning threads took about 12% of the cores from
// decoding (perf, golden JPEGs, 2 threads). Setting OPENBLAS_THREAD_TIMEOUT
// from inside the process is too late (libc's initialiser resets the
// environment after .preinit_array runs), so the pool is shut down instead;
// OpenBLAS starts it again by itself on its next threaded call. The symbol is
// OpenBLAS's own fork handler; it is weak so that another BLAS links too.
extern "C" void blas_thread_shutdown_(void) __attribute__((weak));

namespace hm::cli {

void stop_idle_blas_threads() {
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

}  // namespace hm::cli
