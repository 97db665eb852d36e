// The floors for `hashmatch hash` and `scan` on JPEGs: read each file and
// decode it with libjpeg-turbo's defaults (ISLOW, fancy upsampling, RGB out),
// as djpeg does, on N threads, nothing else. scripts/bench-hash.sh and
// scripts/bench-scan.sh set hashmatch's rates beside it. Two more floors
// bound what any implementation on this libjpeg-turbo can reach:
//   --digests  the same decode plus MD5, SHA-1 and SHA-256 of the file bytes
//              through OpenSSL, file by file: what the digests cost computed
//              the plain way (hashmatch's MD5 lanes are faster);
//   --eighth   luma only at 1/8 scale, the cheapest decode libjpeg offers
//              (entropy decoding of every coefficient stays): the ceiling
//              for --decode fast, which decodes at 1/8 scale or larger.
//
// Usage: hm_jpeg_decode_floor [--digests | --eighth] THREADS FILE...
// (prints images/s)
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
#include <openssl/evp.h>

namespace {

struct Error {
  jpeg_error_mgr base;
  jmp_buf jump;
};

void on_error(j_common_ptr cinfo) { longjmp(reinterpret_cast<Error*>(cinfo->err)->jump, 1); }
void on_message(j_common_ptr, int) {}

enum class Floor { Decode, DecodeAndDigests, LumaEighth };

/// MD5, SHA-1 and SHA-256 of `bytes`, each in one EVP call as hashmatch
/// makes them.
void digests(const std::vector<unsigned char>& bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  for (const EVP_MD* md : {EVP_md5(), EVP_sha1(), EVP_sha256()})
    if (!EVP_Digest(bytes.data(), bytes.size(), out, &size, md, nullptr)) abort();
}

/// Decodes one file; returns false when libjpeg gave up.
bool decode(const std::string& path, Floor floor, std::vector<unsigned char>& bytes,
            std::vector<unsigned char>& rows) {
  std::ifstream in(path, std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(in), {});
  if (floor == Floor::DecodeAndDigests) digests(bytes);
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
  if (floor == Floor::LumaEighth) {
    cinfo.scale_num = 1;
    cinfo.scale_denom = 8;
    // libjpeg converts only YCbCr and grey to grey; CMYK stays as it is.
    if (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_GRAYSCALE)
      cinfo.out_color_space = JCS_GRAYSCALE;
  }
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
  Floor floor = Floor::Decode;
  int arg = 1;
  if (argc > 1 && std::string(argv[1]) == "--digests") floor = Floor::DecodeAndDigests, ++arg;
  else if (argc > 1 && std::string(argv[1]) == "--eighth") floor = Floor::LumaEighth, ++arg;
  if (argc < arg + 2) {
    fprintf(stderr, "usage: %s [--digests | --eighth] THREADS FILE...\n", argv[0]);
    return 2;
  }
  const int threads = atoi(argv[arg]);
  std::vector<std::string> files(argv + arg + 1, argv + argc);
  std::atomic<size_t> next{0}, failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      std::vector<unsigned char> bytes, rows;
      for (size_t i; (i = next++) < files.size();)
        if (!decode(files[i], floor, bytes, rows)) ++failed;
    });
  for (auto& t : pool) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("%zu files (%zu failed) in %.3f s: %.1f images/s on %d threads\n", files.size(),
         failed.load(), s, files.size() / s, threads);
  return 0;
}
