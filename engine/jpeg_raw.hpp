// JPEG decoding for sinks that read only some pixels: libjpeg-turbo's raw
// (downsampled, post-IDCT) planes, with its fancy chroma upsampling and
// YCbCr-to-RGB conversion done only at the selected pixels.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vector>

#include <jpeglib.h>

#include "jpeg_sparse_idct.hpp"
#include "pixel_sink.hpp"

namespace hm {

/// Buffers for read_jpeg_raw_selected. They live in decode_jpeg's frame, so a
/// libjpeg error (a longjmp) leaves nothing to clean up.
struct JpegRawBuffers {
  std::vector<uint8_t> planes;
  std::vector<JSAMPROW> pointers;
  std::vector<int32_t> values;
  std::vector<int32_t> scratch;  ///< widened luma row, column sums, two upsampled chroma rows
  std::vector<uint32_t> rgb;
  SparseIdct idct;  ///< transforms only the blocks and rows read
};

/// True for the layouts whose libjpeg upsampling this module reproduces: 3
/// YCbCr components, chroma 1x1, luma 1x1, 2x1, 2x2 or 1x2 (4:4:4, 4:2:2,
/// 4:2:0, 4:4:0), and chroma wide enough that libjpeg uses its fancy
/// (triangle) filter.
bool jpeg_raw_eligible(const jpeg_decompress_struct& cinfo);

/// How the selected pixels of a row are computed where the selected columns
/// are exactly the even ones (2j for j < n) of a 4:2:2 or 4:2:0 image: the
/// common PDQ pre-resize of 1024- and 1025-wide images. Both give the same
/// bytes; other selections always take the portable code.
enum class JpegRawKernel { Scalar, Avx2 };

bool jpeg_raw_kernel_supported(JpegRawKernel kernel);
JpegRawKernel jpeg_raw_kernel_best();
const char* jpeg_raw_kernel_name(JpegRawKernel kernel);

/// True when the raw path beats reading scanlines (with jpeg_skip_scanlines
/// between the selected rows) for this eligible image and selection.
bool jpeg_raw_preferred(const jpeg_decompress_struct& cinfo, const PixelSelection& selection);

/// After jpeg_read_header and sink.begin(): starts decompression in raw mode,
/// reads every iMCU row and delivers the sink's selected rows. The pixels are
/// byte for byte those of libjpeg's default RGB decode (tests/test_jpeg_raw.cpp).
/// Throws std::invalid_argument, before touching cinfo, for an unsupported kernel.
void read_jpeg_raw_selected(jpeg_decompress_struct& cinfo, const PixelSelection& selection,
                            PixelSink& sink, JpegRawBuffers& buffers,
                            JpegRawKernel kernel = jpeg_raw_kernel_best());

}  // namespace hm
