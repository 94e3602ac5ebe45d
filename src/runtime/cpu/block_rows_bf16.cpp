#include "runtime/cpu/block_rows_bf16.h"

#include <bit>
#include <type_traits>
#include <vector>

#include "quant/blocks.h"
#include "runtime/cpu/bf16_kernel.h"

namespace arbiter {

#if defined(ARB_HAVE_BF16_KERNEL)
namespace {

using bf16_kernel::lane_sum;

// A block's integers as bf16 go through a table: the bf16 bits of value(i) for index i < 64, so that
// one VPERMW (two tables: VPERMT2W) turns 32 indices into 32 exact bf16 values. The index is whatever
// bits the format stores (a nibble, a nibble and a fifth bit, ...), the value what they mean (q - 8, a
// level of kIq4Values, ...).
struct Bf16Table {
  alignas(64) uint16_t words[64] = {};
};

template <class Value>
constexpr Bf16Table make_table(Value value) {
  Bf16Table table;
  for (int i = 0; i < 64; ++i) table.words[i] = uint16_t(std::bit_cast<uint32_t>(float(value(i))) >> 16);
  return table;
}

constexpr Bf16Table kUnsigned = make_table([](int i) { return i; });
constexpr Bf16Table kMinus8 = make_table([](int i) { return i - 8; });
constexpr Bf16Table kMinus16 = make_table([](int i) { return i - 16; });
constexpr Bf16Table kMinus32 = make_table([](int i) { return i - 32; });
constexpr Bf16Table kIq4 = make_table([](int i) { return i < 16 ? int(kIq4Values[i]) : 0; });
// Q3_K's index is low2 | high << 2; the value is low2, less 4 when the high bit is clear.
constexpr Bf16Table kQ3 = make_table([](int i) { return (i & 3) - ((i & 4) ? 0 : 4); });

constexpr __mmask32 kAll32 = 0xffffffffu;

// 32 indices < 32 (bytes) as 16 bf16 pairs of table values, pair p holding elements 2p and 2p + 1.
ARB_BF16_TARGET inline __m512bh lookup(__m256i indices, const Bf16Table& table) {
  const __m512i words = _mm512_maskz_cvtepu8_epi16(kAll32, indices);
  return reinterpret_cast<__m512bh>(_mm512_maskz_permutexvar_epi16(kAll32, words, _mm512_load_si512(table.words)));
}

// The same for indices < 64.
ARB_BF16_TARGET inline __m512bh lookup64(__m256i indices, const Bf16Table& table) {
  const __m512i words = _mm512_maskz_cvtepu8_epi16(kAll32, indices);
  return reinterpret_cast<__m512bh>(_mm512_maskz_permutex2var_epi16(
      kAll32, _mm512_load_si512(table.words), words, _mm512_load_si512(table.words + 32)));
}

// 32 signed bytes as 16 bf16 pairs (exact): Q8_0's values span all 256, past what one table holds.
ARB_BF16_TARGET inline __m512bh signed_byte_pairs(__m256i bytes) {
  const __m512 low = _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepi8_epi32(0xffff, _mm256_castsi256_si128(bytes)));
  const __m512 high =
      _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepi8_epi32(0xffff, _mm256_extracti128_si256(bytes, 1)));
  return _mm512_cvtne2ps_pbh(high, low);
}

// The 32 nibbles of a 16-byte run laid out as Q4_0 orders them: element j is the low nibble of byte j,
// element 16 + j its high nibble.
ARB_BF16_TARGET inline __m256i split_nibbles(const uint8_t* bytes) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  const __m128i low_bits = _mm_set1_epi8(0x0f);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low_bits), _mm_and_si128(packed, low_bits));
}

// bits[j] of a little-endian u32 as byte j of 32: `value` where set, 0 where clear.
ARB_BF16_TARGET inline __m256i bit_bytes(const uint8_t* bits, char value) {
  uint32_t mask;
  __builtin_memcpy(&mask, bits, 4);
  return _mm256_maskz_mov_epi8(__mmask32(mask), _mm256_set1_epi8(value));
}

// Bit `bit` of each of 32 bytes as `value` or 0.
ARB_BF16_TARGET inline __m256i bit_of_bytes(__m256i bytes, int bit, char value) {
  const __mmask32 set = _mm256_test_epi8_mask(bytes, _mm256_set1_epi8(char(1 << bit)));
  return _mm256_maskz_mov_epi8(set, _mm256_set1_epi8(value));
}

ARB_BF16_TARGET inline __m256i load32(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

ARB_BF16_TARGET inline __m512 splat(float v) { return _mm512_set1_ps(v); }

// 16 signed byte scales times d, one lane each: the scales of a block with 16 groups of 16.
ARB_BF16_TARGET inline __m512 group_scales(__m128i scales, float d) {
  return _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepi8_epi32(0xffff, scales)), splat(d));
}

// Run r's scale in a block of 16 groups of 16: lanes 0-7 (the pairs of its first 16 elements) take group
// 2r's scale, lanes 8-15 group 2r + 1's.
ARB_BF16_TARGET inline __m512 run_scale(__m512 group_scales, int r) {
  const __m512i first_or_second = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(2 * r), first_or_second);
  return _mm512_maskz_permutexvar_ps(0xffff, index, group_scales);
}

// Formats. Each says how many elements a block has (kElements, a multiple of 32) and how many share an
// offset (kOffsetGroup: 0 for formats without one), and visits a block's runs of 32 elements in order:
// visit(run, q, scale) with q the run's 32 integer values as bf16 pairs and scale their scale per lane
// (lanes 0-7 the first 16 elements, 8-15 the second). It returns the block's offsets, lane g for offset
// group g (x = scale * q - offset), or zero.

struct Q8_0Format {
  using Block = BlockQ8_0;
  static constexpr int kElements = 32, kOffsetGroup = 0;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    visit(0, signed_byte_pairs(load32(reinterpret_cast<const uint8_t*>(b.qs))), splat(_cvtsh_ss(b.d)));
    return _mm512_setzero_ps();
  }
};

struct Q4_0Format {
  using Block = BlockQ4_0;
  static constexpr int kElements = 32, kOffsetGroup = 0;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    visit(0, lookup(split_nibbles(b.qs), kMinus8), splat(_cvtsh_ss(b.d)));
    return _mm512_setzero_ps();
  }
};

struct Q4_1Format {  // x = d * q + m: offset -m
  using Block = BlockQ4_1;
  static constexpr int kElements = 32, kOffsetGroup = 32;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    visit(0, lookup(split_nibbles(b.qs), kUnsigned), splat(_cvtsh_ss(b.d)));
    return _mm512_maskz_mov_ps(1, splat(-_cvtsh_ss(b.m)));
  }
};

struct Q5_0Format {
  using Block = BlockQ5_0;
  static constexpr int kElements = 32, kOffsetGroup = 0;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    const __m256i q = _mm256_or_si256(split_nibbles(b.qs), bit_bytes(b.qh, 16));
    visit(0, lookup(q, kMinus16), splat(_cvtsh_ss(b.d)));
    return _mm512_setzero_ps();
  }
};

struct Q5_1Format {  // x = d * q + m: offset -m
  using Block = BlockQ5_1;
  static constexpr int kElements = 32, kOffsetGroup = 32;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    const __m256i q = _mm256_or_si256(split_nibbles(b.qs), bit_bytes(b.qh, 16));
    visit(0, lookup(q, kUnsigned), splat(_cvtsh_ss(b.d)));
    return _mm512_maskz_mov_ps(1, splat(-_cvtsh_ss(b.m)));
  }
};

struct IQ4_NLFormat {
  using Block = BlockIQ4_NL;
  static constexpr int kElements = 32, kOffsetGroup = 0;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    visit(0, lookup(split_nibbles(b.qs), kIq4), splat(_cvtsh_ss(b.d)));
    return _mm512_setzero_ps();
  }
};

// Q2_K: run 4h + s is bits 2s..2s+1 of qs[32 h + l]; 16 groups of 16 with a 4-bit scale and a 4-bit min.
struct Q2_KFormat {
  using Block = BlockQ2_K;
  static constexpr int kElements = 256, kOffsetGroup = 16;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)), low_bits = _mm_set1_epi8(0x0f);
    const __m512 scales = group_scales(_mm_and_si128(packed, low_bits), _cvtsh_ss(b.d));
    const __m256i two_bits = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
      const __m256i bytes = load32(b.qs + 32 * h);
      for (int s = 0; s < 4; ++s) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bytes, 2 * s), two_bits);
        visit(4 * h + s, lookup(q, kUnsigned), run_scale(scales, 4 * h + s));
      }
    }
    return group_scales(_mm_and_si128(_mm_srli_epi16(packed, 4), low_bits), _cvtsh_ss(b.dmin));
  }
};

// The 16 signed 6-bit scales of a Q3_K block as bytes (q3_k_scale for every group at once): low nibbles
// from bytes 0-7 (groups 0-7) and their high nibbles (groups 8-15); top bits of group 4k + j from bits 2k..
// of byte 8 + j.
ARB_BF16_TARGET inline __m128i q3_k_scales(const uint8_t* scales) {
  const __m128i low_bits = _mm_set1_epi8(0x0f), two_bits = _mm_set1_epi8(3);
  const __m128i first8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales));
  const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(first8, low_bits), _mm_and_si128(_mm_srli_epi16(first8, 4), low_bits));
  uint32_t top;
  __builtin_memcpy(&top, scales + 8, 4);
  const __m128i high = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(int(top)), _mm_setr_epi32(0, 2, 4, 6)), two_bits);
  return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32));
}

// Q3_K: run p = 4h + s is bits 2s..2s+1 of qs[32 h + l] with bit p of hmask[l] as the high bit; 16 groups
// of 16 with signed 6-bit scales.
struct Q3_KFormat {
  using Block = BlockQ3_K;
  static constexpr int kElements = 256, kOffsetGroup = 0;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    const __m512 scales = group_scales(q3_k_scales(b.scales), _cvtsh_ss(b.d));
    const __m256i two_bits = _mm256_set1_epi8(3), high_bits = load32(b.hmask);
    for (int h = 0; h < 2; ++h) {
      const __m256i bytes = load32(b.qs + 32 * h);
      for (int s = 0; s < 4; ++s) {
        const int run = 4 * h + s;
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(bytes, 2 * s), two_bits);
        const __m256i q = _mm256_or_si256(low, bit_of_bytes(high_bits, run, 4));
        visit(run, lookup(q, kQ3), run_scale(scales, run));
      }
    }
    return _mm512_setzero_ps();
  }
};

// Q4_K and Q5_K: runs 2c and 2c + 1 are the low and high nibbles of qs[32 c + l] (Q5_K: bit g of qh[l]
// is run g's fifth bit); 8 groups of 32 with 6-bit scales and mins.
template <class KBlock>
struct K4_5Format {
  using Block = KBlock;
  static constexpr bool kFifthBit = std::is_same_v<KBlock, BlockQ5_K>;
  static constexpr int kElements = 256, kOffsetGroup = 32;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
    const __m256i low_bits = _mm256_set1_epi8(0x0f);
    alignas(64) float mins[16] = {};
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = load32(b.qs + 32 * c);
      __m256i nibbles[2] = {_mm256_and_si256(bytes, low_bits), _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_bits)};
#pragma GCC unroll 2
      for (int n = 0; n < 2; ++n) {
        const int group = 2 * c + n;
        uint8_t scale, min;
        k_scale_min(b.scales, group, &scale, &min);
        mins[group] = dmin * float(min);
        if constexpr (kFifthBit) nibbles[n] = _mm256_or_si256(nibbles[n], bit_of_bytes(load32(b.qh), group, 16));
        visit(group, lookup(nibbles[n], kUnsigned), splat(d * float(scale)));
      }
    }
    return _mm512_load_ps(mins);
  }
};

// Q6_K: run 4h + s is nibble s / 2 of ql[64 h + 32 (s % 2) + l] with bits 2s..2s+1 of qh[32 h + l] on
// top, less 32; 16 groups of 16 with signed 8-bit scales.
struct Q6_KFormat {
  using Block = BlockQ6_K;
  static constexpr int kElements = 256, kOffsetGroup = 0;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    const __m512 scales = group_scales(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)), _cvtsh_ss(b.d));
    const __m256i low_bits = _mm256_set1_epi8(0x0f), two_bits = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
      const __m256i high_bits = load32(b.qh + 32 * h);
      for (int s = 0; s < 4; ++s) {
        const __m256i ql = load32(b.ql + 64 * h + 32 * (s % 2));
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(ql, 4 * (s / 2)), low_bits);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(high_bits, 2 * s), two_bits);
        visit(4 * h + s, lookup64(_mm256_or_si256(low, _mm256_slli_epi16(high, 4)), kMinus32), run_scale(scales, 4 * h + s));
      }
    }
    return _mm512_setzero_ps();
  }
};

// IQ4_XS: run g is nibbles of qs[16 g + l] as Q4_0 orders them, levels of kIq4Values; 8 groups of 32 with
// signed 6-bit scales.
struct IQ4_XSFormat {
  using Block = BlockIQ4_XS;
  static constexpr int kElements = 256, kOffsetGroup = 0;
  template <class Visit>
  ARB_BF16_TARGET static __m512 runs(const Block& b, const Visit& visit) {
    const float d = _cvtsh_ss(b.d);
    for (int group = 0; group < 8; ++group) {
      visit(group, lookup(split_nibbles(b.qs + 16 * group), kIq4), splat(d * float(iq4_xs_scale(b, group))));
    }
    return _mm512_setzero_ps();
  }
};

// The sums of T tokens over `count` blocks of a row. Each run's VDPBF16PS sums times its scale go to one
// of two FMA chains by run parity, so consecutive runs do not wait on each other; offsets go to their
// own two chains, one vector FMA per block (its offsets times the token's sums over the offset groups).
// The chains alternate by swapping which one is written next (`fresh` and `stale` below) rather than by
// indexing with the parity: a runtime index would keep them in memory, one store and reload per FMA.
// The two chains are added at the end, the same for any T. group_sums: [T, groups_per_token].
template <int T, class Format>
ARB_BF16_TARGET void dot_tokens_blocks(const typename Format::Block* blocks, int64_t count, const uint32_t* tokens,
                                       int64_t ld, const float* group_sums, int64_t groups_per_token, float* sums) {
  constexpr int kRuns = Format::kElements / 32;
  // fresh: the chains the last run (block) wrote; stale: the others, written next.
  __m512 fresh[T], stale[T], fresh_offset[T], stale_offset[T];
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) fresh[t] = stale[t] = fresh_offset[t] = stale_offset[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < count; ++b) {
    const __m512 offsets = Format::runs(blocks[b], [&](int r, __m512bh q, __m512 scale) ARB_BF16_TARGET {
      const int64_t run = b * kRuns + r;  // of the row
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512bh x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(tokens + t * ld + run * 16));
        const __m512 next = _mm512_fmadd_ps(_mm512_dpbf16_ps(_mm512_setzero_ps(), q, x), scale, stale[t]);
        stale[t] = fresh[t];
        fresh[t] = next;
      }
    });
    if constexpr (Format::kOffsetGroup > 0) {
      constexpr int kGroups = Format::kElements / Format::kOffsetGroup;
      constexpr __mmask16 kLive = __mmask16((1u << kGroups) - 1u);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512 token_sums = _mm512_maskz_loadu_ps(kLive, group_sums + t * groups_per_token + b * kGroups);
        const __m512 next = _mm512_fmadd_ps(offsets, token_sums, stale_offset[t]);
        stale_offset[t] = fresh_offset[t];
        fresh_offset[t] = next;
      }
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
    const float dot = lane_sum(_mm512_add_ps(fresh[t], stale[t]));
    sums[t] = Format::kOffsetGroup > 0 ? dot - lane_sum(_mm512_add_ps(fresh_offset[t], stale_offset[t])) : dot;
  }
}

// group_sums[t * groups + g] = sum of token t's bf16 values in elements [G g, G g + G), G = 16 or 32.
template <int G>
ARB_BF16_TARGET void token_group_sums(const uint32_t* tokens, int64_t ld, int64_t n, int64_t groups, float* group_sums) {
  const __m512bh ones = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80));  // bf16 1.0
  for (int64_t t = 0; t < n; ++t) {
    float* out = group_sums + t * groups;
    for (int64_t run = 0; run < groups * G / 32; ++run) {
      const __m512bh x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(tokens + t * ld + run * 16));
      const __m512 pairs = _mm512_dpbf16_ps(_mm512_setzero_ps(), x, ones);  // lane p: elements 2p + 2p + 1
      if constexpr (G == 32) {
        out[run] = lane_sum(pairs);
      } else {
        out[2 * run] = lane_sum(_mm512_maskz_mov_ps(0x00ff, pairs));
        out[2 * run + 1] = lane_sum(_mm512_maskz_mov_ps(0xff00, pairs));
      }
    }
  }
}

template <class Format>
ARB_BF16_TARGET void dot_rows_of(const WeightRows& w, const uint32_t* tokens, int64_t ld, int64_t n, float* y,
                                 int64_t ldy, bool accumulate, int64_t o_begin, int64_t o_end) {
  using Block = typename Format::Block;
  const int64_t blocks_per_row = w.in / Format::kElements;
  static thread_local std::vector<float> group_sums;
  int64_t groups = 0;
  if constexpr (Format::kOffsetGroup > 0) {
    groups = w.in / Format::kOffsetGroup;
    group_sums.resize(size_t(n * groups));
    token_group_sums<Format::kOffsetGroup>(tokens, ld, n, groups, group_sums.data());
  }
  for (int64_t o = o_begin; o < o_end; ++o) {
    const auto* blocks = reinterpret_cast<const Block*>(w.row(o));
    bf16_kernel::write_token_groups(tokens, ld, n, y, ldy, accumulate, o, [&](auto group, const uint32_t* x, float* sums) {
      const int64_t first = (x - tokens) / ld;  // the group's first token
      const float* sums_of_group = groups > 0 ? group_sums.data() + first * groups : nullptr;
      dot_tokens_blocks<decltype(group)::value, Format>(blocks, blocks_per_row, x, ld, sums_of_group, groups, sums);
    });
  }
}

// Calls f(std::type_identity<Format>()) for the type's format; false for a type without one.
template <class F>
bool with_format(DType type, const F& f) {
  switch (type) {
    case DType::Q8_0: f(std::type_identity<Q8_0Format>()); return true;
    case DType::Q4_0: f(std::type_identity<Q4_0Format>()); return true;
    case DType::Q4_1: f(std::type_identity<Q4_1Format>()); return true;
    case DType::Q5_0: f(std::type_identity<Q5_0Format>()); return true;
    case DType::Q5_1: f(std::type_identity<Q5_1Format>()); return true;
    case DType::IQ4_NL: f(std::type_identity<IQ4_NLFormat>()); return true;
    case DType::Q2_K: f(std::type_identity<Q2_KFormat>()); return true;
    case DType::Q3_K: f(std::type_identity<Q3_KFormat>()); return true;
    case DType::Q4_K: f(std::type_identity<K4_5Format<BlockQ4_K>>()); return true;
    case DType::Q5_K: f(std::type_identity<K4_5Format<BlockQ5_K>>()); return true;
    case DType::Q6_K: f(std::type_identity<Q6_KFormat>()); return true;
    case DType::IQ4_XS: f(std::type_identity<IQ4_XSFormat>()); return true;
    default: return false;
  }
}

}  // namespace

bool block_rows_bf16_supported(DType type, int64_t in) {
  bool whole_blocks = false;
  const bool known = with_format(type, [&](auto format) {
    whole_blocks = in > 0 && in % decltype(format)::type::kElements == 0;
  });
  return known && whole_blocks;
}

void dot_block_rows_bf16(const WeightRows& w, const uint32_t* tokens, int64_t ld, int64_t n, float* y, int64_t ldy,
                         bool accumulate, int64_t o_begin, int64_t o_end) {
  with_format(w.dtype, [&](auto format) {
    dot_rows_of<typename decltype(format)::type>(w, tokens, ld, n, y, ldy, accumulate, o_begin, o_end);
  });
}

#else

// Not an x86-64 build: matmul never calls these (bf16_gemm_supported() is false).
bool block_rows_bf16_supported(DType, int64_t) { return false; }
void dot_block_rows_bf16(const WeightRows&, const uint32_t*, int64_t, int64_t, float*, int64_t, bool, int64_t,
                         int64_t) {}

#endif

}  // namespace arbiter
