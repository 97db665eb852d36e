// The floor for `hashmatch hash` on JPEGs: read each file and decode it with
// libjpeg-turbo's defaults (ISLOW, fancy upsampling, RGB out), as djpeg does,
// on N threads, nothing else. scripts/bench-hash.sh compares the two.
//
// Usage: hm_jpeg_decode_floor THREADS FILE...   (prints images/s)
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <jpeglib.h>

namespace {

struct Error {
  jpeg_error_mgr base;
  jmp_buf jump;
};

void on_error(j_common_ptr cinfo) { longjmp(reinterpret_cast<Error*>(cinfo->err)->jump, 1); }
void on_message(j_common_ptr, int) {}

/// Decodes one file; returns false when libjpeg gave up.
bool decode(const std::string& path, std::vector<unsigned char>& bytes,
            std::vector<unsigned char>& rows) {
  std::ifstream in(path, std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(in), {});
  jpeg_decompress_struct cinfo;
  Error err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = on_error;
  err.base.emit_message = on_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  jpeg_start_decompress(&cinfo);
  const size_t stride = (size_t)cinfo.output_width * cinfo.output_components;
  const int batch = cinfo.rec_outbuf_height;
  rows.resize(stride * batch);
  JSAMPROW pointers[16];
  for (int r = 0; r < batch; ++r) pointers[r] = rows.data() + r * stride;
  while (cinfo.output_scanline < cinfo.output_height) jpeg_read_scanlines(&cinfo, pointers, batch);
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s THREADS FILE...\n", argv[0]);
    return 2;
  }
  const int threads = atoi(argv[1]);
  std::vector<std::string> files(argv + 2, argv + argc);
  std::atomic<size_t> next{0}, failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      std::vector<unsigned char> bytes, rows;
      for (size_t i; (i = next++) < files.size();)
        if (!decode(files[i], bytes, rows)) ++failed;
    });
  for (auto& t : pool) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("%zu files (%zu failed) in %.3f s: %.1f images/s on %d threads\n", files.size(),
         failed.load(), s, files.size() / s, threads);
  return 0;
}
