#include "data/parquet/codecs.h"

#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>

namespace arbiter::data::parquet {
namespace {

// A copy of `length` bytes from `offset` bytes back, which may overlap what it writes (offset < length
// repeats the last `offset` bytes), so it goes byte by byte where it overlaps.
Status back_reference(uint8_t* dst, size_t& written, size_t expected, size_t offset, size_t length,
                      const char* format) {
  if (offset == 0 || offset > written)
    return error(std::string(format) + ": a back-reference points before the start of the output");
  if (length > expected - written) return error(std::string(format) + ": output longer than the page says");
  uint8_t* out = dst + written;
  const uint8_t* from = out - offset;
  if (offset >= length) {
    std::memcpy(out, from, length);
  } else {
    for (size_t i = 0; i < length; ++i) out[i] = from[i];
  }
  written += length;
  return Status::ok();
}

Status literal(const uint8_t* src, size_t size, size_t& pos, size_t length, uint8_t* dst, size_t& written,
               size_t expected, const char* format) {
  if (length > size - pos) return error(std::string(format) + ": a literal runs past the compressed data");
  if (length > expected - written) return error(std::string(format) + ": output longer than the page says");
  std::memcpy(dst + written, src + pos, length);
  pos += length;
  written += length;
  return Status::ok();
}

Status gzip_decompress(const uint8_t* src, size_t size, size_t expected, uint8_t* dst) {
  z_stream z{};
  // 16 + 15: a gzip wrapper (the codec's framing), 32 KiB window; concatenated members are allowed.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return error("gzip: cannot start zlib");
  z.next_in = const_cast<Bytef*>(src);
  z.avail_in = uInt(size);
  z.next_out = dst;
  z.avail_out = uInt(expected);
  int rc = Z_OK;
  while (true) {
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) break;  // another gzip member follows
      continue;
    }
    // Z_BUF_ERROR: no progress possible (input ended early, or output longer than the page says).
    if (rc != Z_OK) break;
  }
  const size_t produced = expected - z.avail_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return error(rc == Z_BUF_ERROR ? "gzip: the data is truncated or longer than the page says"
                                   : "gzip: corrupt data (zlib error " + std::to_string(rc) + ")");
  }
  if (produced != expected)
    return error("gzip: " + std::to_string(produced) + " bytes, the page says " + std::to_string(expected));
  return Status::ok();
}

Status zstd_decompress(const uint8_t* src, size_t size, size_t expected, uint8_t* dst) {
  // One context per thread, kept: making one per page (what ZSTD_decompress does) cost 4x the reading
  // time of a file of small pages.
  struct Context {
    ZSTD_DCtx* ctx = ZSTD_createDCtx();
    ~Context() { ZSTD_freeDCtx(ctx); }
  };
  static thread_local Context context;
  if (context.ctx == nullptr) return error("zstd: cannot allocate a decompression context");
  const size_t got = ZSTD_decompressDCtx(context.ctx, dst, expected, src, size);
  if (ZSTD_isError(got)) return error(std::string("zstd: ") + ZSTD_getErrorName(got));
  if (got != expected)
    return error("zstd: " + std::to_string(got) + " bytes, the page says " + std::to_string(expected));
  return Status::ok();
}

}  // namespace

// Snappy's raw format: the uncompressed length as a varint, then elements whose tag byte's low two
// bits say what follows: 0 a literal (its length - 1 in the tag's high six bits, or in 1-4 bytes after
// it when those say 60-63), 1 a copy of 4-11 bytes with an 11-bit offset, 2 and 3 copies of 1-64 bytes
// with 16- and 32-bit offsets.
Status snappy_decompress(const uint8_t* src, size_t size, size_t expected, uint8_t* dst) {
  size_t pos = 0;
  uint64_t length = 0;
  for (int shift = 0;; shift += 7) {
    if (pos >= size || shift > 28) return error("snappy: bad length header");
    const uint8_t byte = src[pos++];
    length |= uint64_t(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (length != expected)
    return error("snappy: " + std::to_string(length) + " bytes, the page says " + std::to_string(expected));
  size_t written = 0;
  while (pos < size) {
    const uint8_t tag = src[pos++];
    switch (tag & 3) {
      case 0: {
        size_t n = tag >> 2;
        if (n >= 60) {
          const size_t bytes = n - 59;
          if (bytes > size - pos) return error("snappy: a literal length runs past the compressed data");
          n = 0;
          for (size_t i = 0; i < bytes; ++i) n |= size_t(src[pos + i]) << (8 * i);
          pos += bytes;
        }
        ARB_TRY(literal(src, size, pos, n + 1, dst, written, expected, "snappy"));
        break;
      }
      case 1: {
        if (pos >= size) return error("snappy: a copy runs past the compressed data");
        const size_t n = 4 + ((tag >> 2) & 7);
        const size_t offset = (size_t(tag >> 5) << 8) | src[pos++];
        ARB_TRY(back_reference(dst, written, expected, offset, n, "snappy"));
        break;
      }
      default: {
        const size_t bytes = (tag & 3) == 2 ? 2 : 4;
        if (bytes > size - pos) return error("snappy: a copy runs past the compressed data");
        size_t offset = 0;
        for (size_t i = 0; i < bytes; ++i) offset |= size_t(src[pos + i]) << (8 * i);
        pos += bytes;
        ARB_TRY(back_reference(dst, written, expected, offset, size_t(tag >> 2) + 1, "snappy"));
        break;
      }
    }
  }
  if (written != expected)
    return error("snappy: " + std::to_string(written) + " bytes, the page says " + std::to_string(expected));
  return Status::ok();
}

// LZ4's block format: sequences of a token (literal count in the high nibble, match length - 4 in the
// low, 15 meaning "add the next bytes until one is below 255"), the literals, a 16-bit offset and the
// match; the last sequence ends after its literals.
Status lz4_block_decompress(const uint8_t* src, size_t size, size_t expected, uint8_t* dst) {
  size_t pos = 0, written = 0;
  auto extended = [&](size_t base, size_t& value) -> Status {
    value = base;
    if (base != 15) return Status::ok();
    while (true) {
      if (pos >= size) return error("lz4: a length runs past the compressed data");
      const uint8_t byte = src[pos++];
      value += byte;
      if (value > expected) return error("lz4: a length longer than the page");
      if (byte != 255) return Status::ok();
    }
  };
  while (pos < size) {
    const uint8_t token = src[pos++];
    size_t literals = 0;
    ARB_TRY(extended(token >> 4, literals));
    ARB_TRY(literal(src, size, pos, literals, dst, written, expected, "lz4"));
    if (pos == size) break;  // the last sequence has no match
    if (size - pos < 2) return error("lz4: an offset runs past the compressed data");
    const size_t offset = size_t(src[pos]) | size_t(src[pos + 1]) << 8;
    pos += 2;
    size_t match = 0;
    ARB_TRY(extended(token & 15, match));
    ARB_TRY(back_reference(dst, written, expected, offset, match + 4, "lz4"));
  }
  if (written != expected)
    return error("lz4: " + std::to_string(written) + " bytes, the page says " + std::to_string(expected));
  return Status::ok();
}

Status decompress(Codec codec, const uint8_t* src, size_t size, size_t expected_size, std::vector<uint8_t>& out) {
  out.resize(expected_size);
  switch (codec) {
    case Codec::kUncompressed:
      if (size != expected_size)
        return error("an uncompressed page of " + std::to_string(size) + " bytes, the header says " +
                     std::to_string(expected_size));
      if (size > 0) std::memcpy(out.data(), src, size);
      return Status::ok();
    case Codec::kSnappy: return snappy_decompress(src, size, expected_size, out.data());
    case Codec::kGzip: return gzip_decompress(src, size, expected_size, out.data());
    case Codec::kZstd: return zstd_decompress(src, size, expected_size, out.data());
    case Codec::kLz4Raw: return lz4_block_decompress(src, size, expected_size, out.data());
    default:
      return error(std::string("compression ") + codec_name(codec) +
                   " is not supported (UNCOMPRESSED, SNAPPY, GZIP, ZSTD and LZ4_RAW are)");
  }
}

}  // namespace arbiter::data::parquet
