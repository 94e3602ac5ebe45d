#include "data/parquet/encodings.h"

#include <algorithm>
#include <string>

#include "data/parquet/zigzag.h"

namespace arbiter::data::parquet {
namespace {

Result<uint64_t> read_uleb(const uint8_t* data, size_t size, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= size) return error("a varint runs past the end of the data");
    const uint8_t byte = data[pos++];
    value |= uint64_t(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return error("a varint longer than 10 bytes");
}

// Value i of a little-endian bit-packed run (LSB first) of `width` bits each, width <= 64.
uint64_t unpack(const uint8_t* run, size_t i, int width) {
  if (width == 0) return 0;
  const size_t bit = i * size_t(width);
  const uint8_t* p = run + bit / 8;
  const int shift = int(bit % 8);
  // Up to 64 + 7 bits span at most 9 bytes.
  const int bytes = (shift + width + 7) / 8;
  unsigned __int128 word = 0;
  for (int b = 0; b < bytes; ++b) word |= (unsigned __int128)p[b] << (8 * b);
  word >>= shift;
  return width == 64 ? uint64_t(word) : uint64_t(word) & ((uint64_t(1) << width) - 1);
}

}  // namespace

int bit_width_of(uint32_t max_value) {
  int width = 0;
  while (max_value >> width) ++width;
  return width;
}

// Runs: a ULEB128 header whose low bit says bit-packed (1: header >> 1 groups of 8 values, each group
// `bit_width` bytes) or repeated (0: header >> 1 copies of one value stored in ceil(bit_width / 8) bytes).
Status decode_hybrid(const uint8_t* data, size_t size, int bit_width, size_t count, uint32_t* out) {
  if (bit_width < 0 || bit_width > 32) return error("a bit width of " + std::to_string(bit_width));
  size_t pos = 0, done = 0;
  while (done < count) {
    ARB_ASSIGN(const uint64_t header, read_uleb(data, size, pos));
    if (header & 1) {
      const uint64_t groups = header >> 1;
      const uint64_t values = groups > (uint64_t(1) << 58) ? UINT64_MAX : groups * 8;
      const size_t take = size_t(std::min<uint64_t>(values, count - done));
      // Only the bits of the values taken must be there: some writers cut the last run's padding.
      const size_t avail = size - pos;
      if ((uint64_t(take) * uint64_t(bit_width) + 7) / 8 > avail)
        return error("a bit-packed run of " + std::to_string(take) + " values runs past the data");
      for (size_t i = 0; i < take; ++i) out[done + i] = uint32_t(unpack(data + pos, i, bit_width));
      const uint64_t run_bytes = bit_width == 0 ? 0 : groups * uint64_t(bit_width);
      pos += size_t(std::min<uint64_t>(run_bytes, avail));
      done += take;
    } else {
      const uint64_t repeat = header >> 1;
      const size_t bytes = size_t(bit_width + 7) / 8;
      if (bytes > size - pos) return error("a repeated run's value runs past the data");
      uint32_t value = 0;
      for (size_t b = 0; b < bytes; ++b) value |= uint32_t(data[pos + b]) << (8 * b);
      pos += bytes;
      if (bit_width < 32 && (value >> bit_width) != 0)
        return error("a repeated value " + std::to_string(value) + " wider than " + std::to_string(bit_width) + " bits");
      const size_t take = size_t(std::min<uint64_t>(repeat, count - done));
      for (size_t i = 0; i < take; ++i) out[done + i] = value;
      done += take;
    }
  }
  return Status::ok();
}

// The header: block size (values, a multiple of 128), miniblocks per block, total value count, first
// value (zigzag). Each block: its minimum delta (zigzag), one bit-width byte per miniblock, then the
// miniblocks, each (block size / miniblocks) deltas above the minimum, bit-packed. The last block's
// unneeded miniblocks are absent (their width bytes are not).
Result<size_t> decode_delta_binary_packed(const uint8_t* data, size_t size, size_t max_count,
                                          std::vector<int64_t>& out) {
  size_t pos = 0;
  ARB_ASSIGN(const uint64_t block_size, read_uleb(data, size, pos));
  ARB_ASSIGN(const uint64_t miniblocks, read_uleb(data, size, pos));
  ARB_ASSIGN(const uint64_t total, read_uleb(data, size, pos));
  ARB_ASSIGN(const uint64_t first, read_uleb(data, size, pos));
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20))
    return error("DELTA_BINARY_PACKED: block size " + std::to_string(block_size));
  if (miniblocks == 0 || block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0)
    return error("DELTA_BINARY_PACKED: " + std::to_string(miniblocks) + " miniblocks in a block of " +
                 std::to_string(block_size));
  if (total > max_count)
    return error("DELTA_BINARY_PACKED: " + std::to_string(total) + " values where at most " +
                 std::to_string(max_count) + " are expected");
  const size_t per_miniblock = size_t(block_size / miniblocks);
  if (total == 0) return pos;
  out.reserve(out.size() + size_t(total));
  uint64_t value = uint64_t(unzigzag(first));  // unsigned: deltas wrap as two's complement
  out.push_back(int64_t(value));
  size_t left = size_t(total) - 1;
  while (left > 0) {
    ARB_ASSIGN(const uint64_t min_delta_bits, read_uleb(data, size, pos));
    const uint64_t min_delta = uint64_t(unzigzag(min_delta_bits));
    if (miniblocks > size - pos) return error("DELTA_BINARY_PACKED: bit widths run past the data");
    const uint8_t* widths = data + pos;
    pos += size_t(miniblocks);
    for (size_t m = 0; m < miniblocks && left > 0; ++m) {
      const int width = widths[m];
      if (width > 64) return error("DELTA_BINARY_PACKED: a bit width of " + std::to_string(width));
      const size_t bytes = per_miniblock * size_t(width) / 8;
      if (bytes > size - pos) return error("DELTA_BINARY_PACKED: a miniblock runs past the data");
      const size_t take = std::min(per_miniblock, left);
      for (size_t i = 0; i < take; ++i) {
        value += min_delta + unpack(data + pos, i, width);
        out.push_back(int64_t(value));
      }
      pos += bytes;
      left -= take;
    }
  }
  return pos;
}

}  // namespace arbiter::data::parquet
