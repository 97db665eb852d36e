// Stops OpenBLAS's start-up thread pool from competing with the scan for cores.
#pragma once

namespace hm::cli {

/// Shuts down OpenBLAS's idle worker threads (a no-op with another BLAS).
/// Call first thing in main(), before any thread of ours starts.
void stop_idle_blas_threads();

}  // namespace hm::cli
