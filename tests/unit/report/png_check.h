// Reads a PNG far enough to tell a real screenshot from an empty one: checks the signature and every
// chunk's CRC, inflates the image data, undoes the row filters (8-bit gray, RGB or RGBA, not interlaced:
// what Chromium writes), and counts colours.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace arbiter::test {

struct PngSummary {
  std::string error;  // empty when the file decoded
  uint32_t width = 0, height = 0;
  size_t distinct_colors = 0;     // counted up to 4096
  double non_white_fraction = 0;  // pixels that are not pure white
};

inline uint32_t png_be32(const unsigned char* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

inline int png_paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

inline PngSummary summarize_png(const std::string& path) {
  PngSummary out;
  std::ifstream file(path, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  static const unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() < 8 || !std::equal(kSignature, kSignature + 8, bytes.begin())) return {.error = "not a PNG"};
  int bit_depth = 0, color_type = -1, interlace = 0;
  std::vector<unsigned char> idat;
  bool saw_end = false;
  for (size_t at = 8; at + 12 <= bytes.size() && !saw_end;) {
    const uint32_t length = png_be32(&bytes[at]);
    if (at + 12 + size_t(length) > bytes.size()) return {.error = "chunk runs past the end"};
    const unsigned char* type = &bytes[at + 4];
    const unsigned char* data = type + 4;
    if (crc32(crc32(0, nullptr, 0), type, 4 + length) != png_be32(data + length)) return {.error = "bad chunk CRC"};
    const std::string name(reinterpret_cast<const char*>(type), 4);
    if (name == "IHDR" && length == 13) {
      out.width = png_be32(data);
      out.height = png_be32(data + 4);
      bit_depth = data[8], color_type = data[9], interlace = data[12];
    } else if (name == "IDAT") {
      idat.insert(idat.end(), data, data + length);
    } else if (name == "IEND") {
      saw_end = true;
    }
    at += 12 + size_t(length);
  }
  if (!saw_end) return {.error = "no IEND chunk"};
  const int channels = color_type == 0 ? 1 : color_type == 2 ? 3 : color_type == 6 ? 4 : 0;
  if (bit_depth != 8 || channels == 0 || interlace != 0) return {.error = "unsupported PNG layout"};
  const size_t stride = size_t(out.width) * channels;
  std::vector<unsigned char> raw((stride + 1) * out.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, idat.data(), idat.size()) != Z_OK || raw_size != raw.size())
    return {.error = "image data does not inflate to the IHDR size"};
  std::vector<unsigned char> previous(stride, 0), row(stride);
  std::set<uint32_t> colors;
  size_t non_white = 0;
  for (uint32_t y = 0; y < out.height; ++y) {
    const unsigned char* line = &raw[y * (stride + 1)];
    const int filter = line[0];
    if (filter > 4) return {.error = "bad row filter"};
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= size_t(channels) ? row[x - channels] : 0, b = previous[x];
      const int c = x >= size_t(channels) ? previous[x - channels] : 0;
      const int predictor = filter == 0 ? 0 : filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2
                                                                                                : png_paeth(a, b, c);
      row[x] = static_cast<unsigned char>(line[1 + x] + predictor);
    }
    for (uint32_t x = 0; x < out.width; ++x) {
      const unsigned char* p = &row[size_t(x) * channels];
      const uint32_t rgb =
          channels == 1 ? uint32_t(p[0]) * 0x010101u : uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
      if (rgb != 0xFFFFFFu) ++non_white;
      if (colors.size() < 4096) colors.insert(rgb);
    }
    previous.swap(row);
  }
  out.distinct_colors = colors.size();
  out.non_white_fraction = double(non_white) / (double(out.width) * out.height);
  return out;
}

}  // namespace arbiter::test
