#include "box_blur_cpu.hpp"

#include <stdint.h>

#include <string.h>

#include <algorithm>

#include "pdq_math.hpp"
#include "simd.hpp"

namespace hm::pdq {

namespace {

using simd::kWidth;
using simd::V8;

/// 8-row groups filtered side by side: independent dependency chains keep
/// both vector adders busy (one group waits on add-then-subtract latency).
constexpr int kGroups = 4;
/// Rows per block of the row filter.
constexpr int kBlock = kGroups * kWidth;

/// Dividing by a power of two and multiplying by its reciprocal give the
/// same correctly rounded value of the same real number, so both are the
/// reference's `sum / count`; the multiply is several times cheaper. Windows
/// of 1, 2 and 4 (sides up to 128, 256 and 512) divide only at the edges.
HM_INLINE bool is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

/// sum / count for every group, as the reference divides (see is_power_of_two).
template <int NB>
HM_INLINE void store_means(const V8* sum, int count, V8* out) {
  if (is_power_of_two(count)) {
    const V8 r = simd::splat(1.0f / (float)count);
    for (int b = 0; b < NB; ++b) out[b] = sum[b] * r;
  } else {
    const V8 c = simd::splat((float)count);
    for (int b = 0; b < NB; ++b) out[b] = sum[b] / c;
  }
}

/// Running box sums of NB 8-row groups side by side. Each lane keeps the
/// reference's sequential sum of its row; the groups give the CPU independent
/// dependency chains. lanes is [w][NB] (column x of each group), out is
/// [ncols][NB]: every column (cols == nullptr) or the 64 sampled ones.
/// The loop runs in three phases, so the long middle one, where every step
/// adds and subtracts and the count is the window, has no branches.
template <int NB>
HM_INLINE void filter_lanes(const V8* lanes, int w, BoxSpan s, const int* cols, V8* out) {
  V8 sum[NB] = {};
  int count = 0;
  for (int k = 0; k < s.lead && k < w; ++k) {
    for (int b = 0; b < NB; ++b) sum[b] = sum[b] + lanes[k * NB + b];
    ++count;
  }
  int j = 0;  // next sampled column
  auto emit = [&](int i) {
    if (cols == nullptr) {
      store_means<NB>(sum, count, out + i * NB);
    } else {
      for (; j < kGrid && cols[j] == i; ++j) store_means<NB>(sum, count, out + j * NB);
    }
  };
  // Window <= w, so lag + 1 <= w - lead: the phases are in order.
  const int first_sub = s.lag + 1;
  const int last_add = w - s.lead;  // steps i < last_add add lanes[i + lead]
  int i = 0;
  for (; i < first_sub; ++i) {
    for (int b = 0; b < NB; ++b) sum[b] = sum[b] + lanes[(i + s.lead) * NB + b];
    ++count;
    emit(i);
  }
  if (cols == nullptr) {
    const bool multiply = is_power_of_two(count);
    const V8 c = simd::splat(multiply ? 1.0f / (float)count : (float)count);
    for (; i < last_add; ++i) {
      const V8* add = lanes + (i + s.lead) * NB;
      const V8* sub = lanes + (i - s.lag - 1) * NB;
      V8* o = out + i * NB;
      for (int b = 0; b < NB; ++b) {
        sum[b] = (sum[b] + add[b]) - sub[b];
        o[b] = multiply ? sum[b] * c : sum[b] / c;
      }
    }
  } else {
    for (; i < last_add; ++i) {
      for (int b = 0; b < NB; ++b)
        sum[b] = (sum[b] + lanes[(i + s.lead) * NB + b]) - lanes[(i - s.lag - 1) * NB + b];
      emit(i);
    }
  }
  for (; i < w; ++i) {
    for (int b = 0; b < NB; ++b) sum[b] = sum[b] - lanes[(i - s.lag - 1) * NB + b];
    --count;
    emit(i);
  }
}

/// Copies rows [y, y + 8 NB) of in [h, w] into lanes [w][NB], transposed.
template <int NB>
HM_INLINE void load_lanes(const float* in, int w, int y, V8* lanes) {
  const int full = w - w % kWidth;
  for (int b = 0; b < NB; ++b) {
    const float* rows = in + (size_t)(y + kWidth * b) * w;
    for (int x0 = 0; x0 < full; x0 += kWidth) {
      V8 tile[kWidth];
      for (int r = 0; r < kWidth; ++r) tile[r] = simd::load(rows + (size_t)r * w + x0);
      simd::transpose8(tile);
      for (int x = 0; x < kWidth; ++x) lanes[(x0 + x) * NB + b] = tile[x];
    }
    for (int x = full; x < w; ++x)
      for (int r = 0; r < kWidth; ++r) lanes[x * NB + b][r] = rows[(size_t)r * w + x];
  }
}

/// The inverse of load_lanes: out [h, ncols] rows [y, y + 8 NB) from lanes [ncols][NB].
template <int NB>
HM_INLINE void store_lanes(const V8* lanes, int ncols, int y, float* out) {
  const int full = ncols - ncols % kWidth;
  for (int b = 0; b < NB; ++b) {
    float* rows = out + (size_t)(y + kWidth * b) * ncols;
    for (int x0 = 0; x0 < full; x0 += kWidth) {
      V8 tile[kWidth];
      for (int x = 0; x < kWidth; ++x) tile[x] = lanes[(x0 + x) * NB + b];
      simd::transpose8(tile);
      for (int r = 0; r < kWidth; ++r) simd::store(rows + (size_t)r * ncols + x0, tile[r]);
    }
    for (int x = full; x < ncols; ++x)
      for (int r = 0; r < kWidth; ++r) rows[(size_t)r * ncols + x] = lanes[x * NB + b][r];
  }
}

/// Filters every row of in [h, w]; out is [h, w] (cols == nullptr) or [h, 64]
/// at the sampled columns. lanes holds kGroups (w + max(w, 64)) vectors.
HM_VECTOR_CLONES
void box_rows(const float* in, int h, int w, int window, const int* cols, float* out, V8* lanes) {
  const BoxSpan s = box_span(window);
  const int ncols = cols ? kGrid : w;
  V8* filtered = lanes + kGroups * w;
  int y = 0;
  for (; y + kBlock <= h; y += kBlock) {
    load_lanes<kGroups>(in, w, y, lanes);
    filter_lanes<kGroups>(lanes, w, s, cols, filtered);
    store_lanes<kGroups>(filtered, ncols, y, out);
  }
  for (; y + 2 * kWidth <= h; y += 2 * kWidth) {
    load_lanes<2>(in, w, y, lanes);
    filter_lanes<2>(lanes, w, s, cols, filtered);
    store_lanes<2>(filtered, ncols, y, out);
  }
  for (; y + kWidth <= h; y += kWidth) {
    load_lanes<1>(in, w, y, lanes);
    filter_lanes<1>(lanes, w, s, cols, filtered);
    store_lanes<1>(filtered, ncols, y, out);
  }
  // Leftover rows: the scalar line filter (the same arithmetic, one lane).
  float* line = reinterpret_cast<float*>(lanes);
  for (; y < h; ++y) {
    box_filter_line(in + (size_t)y * w, 1, line, 1, w, window);
    for (int j = 0; j < ncols; ++j) out[(size_t)y * ncols + j] = line[cols ? cols[j] : j];
  }
}

/// One step of a column running sum over w columns: sum += add (if any),
/// then sum -= sub (if any), then out = sum / count (if out). Columns are
/// independent, so vectorising across them keeps every column's order.
HM_VECTOR_CLONES
void column_step(float* sum, const float* add, const float* sub, float* out, int w, int count) {
  if (add && sub) {
    for (int x = 0; x < w; ++x) sum[x] = (sum[x] + add[x]) - sub[x];
  } else if (add) {
    for (int x = 0; x < w; ++x) sum[x] = sum[x] + add[x];
  } else if (sub) {
    for (int x = 0; x < w; ++x) sum[x] = sum[x] - sub[x];
  }
  if (!out) return;
  if (is_power_of_two(count)) {
    const float r = 1.0f / (float)count;
    for (int x = 0; x < w; ++x) out[x] = sum[x] * r;
  } else {
    const float c = (float)count;
    for (int x = 0; x < w; ++x) out[x] = sum[x] / c;
  }
}


}  // namespace

/// A column box filter fed one row at a time (rows 0, 1, ... h-1). It keeps
/// the last rows it needs in a ring, and emits output row i as soon as input
/// row i + lead has arrived, in the reference's exact order of operations.
class BlurPipeline::ColumnFilter {
 public:
  void begin(int h, int w, int window) {
    h_ = h;
    w_ = w;
    span_ = box_span(window);
    // Inputs arrive kBlock at a time and the oldest one read is window rows back.
    ring_rows_ = kBlock * ((kBlock + window + 1 + kBlock - 1) / kBlock);
    ring_.resize((size_t)ring_rows_ * w);
    sum_.assign(w, 0.0f);
    count_ = 0;
    arrived_ = 0;
    next_out_ = 0;
  }
  /// Where input row k (the next kBlock-aligned block) goes: rows are
  /// contiguous within a block because the ring is a multiple of kBlock.
  float* slot(int k) { return ring_.data() + (size_t)(k % ring_rows_) * w_; }
  /// Input row `arrived_` is in its slot: run the step it enables. `emit`
  /// says where output row i goes (emit.destination(i), null when the row
  /// is not wanted) and is told when it is written (emit(i, row)).
  template <typename Emit>
  void arrived(Emit&& emit) {
    const int k = arrived_++;
    if (k < span_.lead) {  // the reference adds rows 0 .. lead-1 before it starts
      column_step(sum_.data(), slot(k), nullptr, nullptr, w_, 0);
      ++count_;
      return;
    }
    step(slot(k), emit);
  }
  /// After the last row: the steps whose add would fall past the end.
  template <typename Emit>
  void drain(Emit&& emit) {
    while (next_out_ < h_) step(nullptr, emit);
  }

 private:
  template <typename Emit>
  void step(const float* add, Emit&& emit) {
    const int i = next_out_++;
    const int old = i - span_.lag - 1;
    const float* sub = old >= 0 ? slot(old) : nullptr;
    count_ += (add ? 1 : 0) - (sub ? 1 : 0);
    float* dst = emit.destination(i);
    column_step(sum_.data(), add, sub, dst, w_, count_);
    if (dst) emit(i, dst);
  }

  int h_ = 0, w_ = 0;
  BoxSpan span_{0, 0};
  int ring_rows_ = 0;
  std::vector<float> ring_;
  std::vector<float> sum_;
  int count_ = 0;
  int arrived_ = 0;
  int next_out_ = 0;
};

BlurPipeline::BlurPipeline()
    : first_(std::make_unique<ColumnFilter>()), second_(std::make_unique<ColumnFilter>()) {}
BlurPipeline::~BlurPipeline() = default;

void BlurPipeline::begin(int h, int w, float* grid) {
  h_ = h;
  w_ = w;
  wx_ = box_window(w);
  wy_ = box_window(h);
  grid_ = grid;
  next_grid_row_ = 0;
  for (int i = 0; i < kGrid; ++i) {
    cols_[i] = sample_index(i, w);
    rows_[i] = sample_index(i, h);
  }
  const int wide = std::max(w, kGrid);
  block_.resize((size_t)kBlock * w);
  block_rows_ = 0;
  rows_in_ = 0;
  mid_block_.resize((size_t)kBlock * w);
  mid_rows_ = 0;
  mid_in_ = 0;
  out_row_.resize(kGrid);
  // Vector lanes need 32-byte alignment, which std::vector does not promise.
  lanes_storage_.resize((size_t)(kGroups * (w + wide) + 1) * kWidth);
  float* base = lanes_storage_.data();
  while (reinterpret_cast<uintptr_t>(base) % sizeof(V8) != 0) ++base;
  lanes_ = base;
  first_->begin(h, w, wy_);
  second_->begin(h, kGrid, wy_);
}

float* BlurPipeline::row_buffer() { return block_.data() + (size_t)block_rows_ * w_; }

void BlurPipeline::push_row() {
  ++rows_in_;
  if (++block_rows_ == kBlock) flush_first_rows();
}

void BlurPipeline::push_row(const float* row) {
  memcpy(row_buffer(), row, sizeof(float) * w_);
  push_row();
}

void BlurPipeline::flush_first_rows() {
  if (block_rows_ == 0) return;
  // Pass 1, rows: straight into the column filter's ring.
  const int k0 = rows_in_ - block_rows_;
  box_rows(block_.data(), block_rows_, w_, wx_, nullptr, first_->slot(k0),
           reinterpret_cast<V8*>(lanes_));
  const int n = block_rows_;
  block_rows_ = 0;
  for (int r = 0; r < n; ++r) first_->arrived(FirstPassSink{this});
}

void BlurPipeline::flush_second_rows() {
  if (mid_rows_ == 0) return;
  // Pass 2, rows: only the 64 sampled columns are kept.
  const int k0 = mid_in_ - mid_rows_;
  box_rows(mid_block_.data(), mid_rows_, w_, wx_, cols_, second_->slot(k0),
           reinterpret_cast<V8*>(lanes_));
  const int n = mid_rows_;
  mid_rows_ = 0;
  for (int r = 0; r < n; ++r) second_->arrived(SecondPassSink{this});
}

void BlurPipeline::finish() {
  flush_first_rows();
  first_->drain(FirstPassSink{this});
  flush_second_rows();
  second_->drain(SecondPassSink{this});
}

/// The first pass's column filter writes every row straight into the block
/// that the second pass's row filter reads.
float* BlurPipeline::FirstPassSink::destination(int) const {
  return self->mid_block_.data() + (size_t)self->mid_rows_ * self->w_;
}

void BlurPipeline::FirstPassSink::operator()(int, const float*) const {
  ++self->mid_in_;
  if (++self->mid_rows_ == kBlock) self->flush_second_rows();
}

/// The second pass keeps only the sampled rows (a short side samples a row
/// several times).
float* BlurPipeline::SecondPassSink::destination(int i) const {
  // Rows arrive in order and the sampled rows are sorted: a cursor suffices.
  return self->next_grid_row_ < kGrid && self->rows_[self->next_grid_row_] == i
             ? self->out_row_.data()
             : nullptr;
}

void BlurPipeline::SecondPassSink::operator()(int i, const float* row) const {
  for (int& j = self->next_grid_row_; j < kGrid && self->rows_[j] == i; ++j)
    memcpy(self->grid_ + j * kGrid, row, sizeof(float) * kGrid);
}

void blur_and_sample_cpu(const float* luma, int h, int w, float* grid, BlurPipeline& pipeline) {
  pipeline.begin(h, w, grid);
  for (int y = 0; y < h; ++y) pipeline.push_row(luma + (size_t)y * w);
  pipeline.finish();
}

}  // namespace hm::pdq
