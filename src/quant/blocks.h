// Byte layouts of the block formats, as GGUF stores them (little-endian, no padding). Scales marked
// "f16" are IEEE half bit patterns. Element order inside a block is spelled out where it is not obvious,
// because dequantizers and quantizers must agree on it with every other GGUF reader.
#pragma once

#include <cstdint>

namespace arbiter {

constexpr int kQK = 32;    // elements per legacy block (Q4_0 ... Q8_0, IQ4_NL)
constexpr int kQK_K = 256; // elements per super-block (K-quants, IQ4_XS)

// Q4_0: x = d * (q - 8); element j < 16 is the low nibble of qs[j], element j + 16 the high one.
struct BlockQ4_0 {
  uint16_t d;  // f16
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q4_1: x = d * q + m; nibbles as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;  // f16
  uint16_t m;  // f16
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// Q5_0: x = d * (q - 16); low 4 bits as in Q4_0, bit 4 of element j is bit j of qh (a little-endian u32).
struct BlockQ5_0 {
  uint16_t d;  // f16
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// Q5_1: x = d * q + m; bits as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;  // f16
  uint16_t m;  // f16
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// Q8_0: x = q * d.
struct BlockQ8_0 {
  uint16_t d;  // f16
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q2_K: 16 groups of 16; x = (d * (scale & 15)) * q - dmin * (scale >> 4), q in 0..3.
// Element 128 h + 32 s + l (h < 2, s < 4, l < 32) is bits 2s..2s+1 of qs[32 h + l].
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;     // f16
  uint16_t dmin;  // f16
};
static_assert(sizeof(BlockQ2_K) == 84);

// Q3_K: 16 groups of 16 with signed 6-bit scales; x = (d * (scale - 32)) * q, q = low2 - (hbit ? 0 : 4).
// Low bits as in Q2_K; the high bit of element 32 b + l is bit b of hmask[l]. Scale i: low 4 bits are
// nibble i / 8 of scales[i % 8], high 2 bits are bits 2 (i / 4).. of scales[8 + i % 4].
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;  // f16
};
static_assert(sizeof(BlockQ3_K) == 110);

// Q4_K: 8 groups of 32 with 6-bit scales and mins packed in 12 bytes (see k_scale_min);
// x = (d * scale) * q - dmin * min. Element 64 c + 32 n + l is nibble n of qs[32 c + l].
struct BlockQ4_K {
  uint16_t d;     // f16
  uint16_t dmin;  // f16
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q5_K: Q4_K plus a fifth bit: bit 4 of element 32 b + l is bit b of qh[l].
struct BlockQ5_K {
  uint16_t d;     // f16
  uint16_t dmin;  // f16
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K: 16 groups of 16 with int8 scales; x = (d * scale) * (q - 32). Element 128 h + 64 n + l (l < 64)
// has low 4 bits = nibble n of ql[64 h + l]; element 128 h + 32 s + l (l < 32) has high 2 bits =
// bits 2s..2s+1 of qh[32 h + l].
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;  // f16
};
static_assert(sizeof(BlockQ6_K) == 210);

// IQ4_NL: Q4_0's layout, but the nibble indexes the non-linear table kIq4Values: x = d * value.
struct BlockIQ4_NL {
  uint16_t d;  // f16
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockIQ4_NL) == 18);

// IQ4_XS: 8 groups of 32 with signed 6-bit scales (low 4 bits: nibble b % 2 of scales_l[b / 2], high 2:
// bits 2b.. of scales_h); x = (d * (scale - 32)) * value. Element 32 b + 16 n + l is nibble n of qs[16 b + l].
struct BlockIQ4_XS {
  uint16_t d;  // f16
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockIQ4_XS) == 136);

// The 16 levels of IQ4_NL / IQ4_XS.
inline constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};

// Scale and min of group j (0..7) of a Q4_K / Q5_K block: groups 0..3 use the low 6 bits of bytes
// j and j + 4; groups 4..7 take 4 bits from byte j + 4 and their top 2 bits from the spare bits of
// bytes j - 4 and j.
inline void k_scale_min(const uint8_t* scales, int j, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4);
    *min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// Signed 6-bit scale i (0..15) of a Q3_K block: its low 4 bits are nibble i / 8 of byte i % 8, its top 2
// bits are bits 2 (i / 4).. of byte 8 + i % 4.
inline int q3_k_scale(const uint8_t* scales, int i) {
  const int low = (scales[i % 8] >> (4 * (i / 8))) & 0x0f;
  const int high = (scales[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (low | high << 4) - 32;
}

// Signed scale of group g (0..7) of an IQ4_XS block: 6 bits, low 4 in nibble g % 2 of scales_l[g / 2],
// high 2 in bits 2g.. of scales_h, less 32.
inline int iq4_xs_scale(const BlockIQ4_XS& block, int g) {
  const int low = (block.scales_l[g / 2] >> (4 * (g % 2))) & 0x0f;
  const int high = (block.scales_h >> (2 * g)) & 3;
  return (low | high << 4) - 32;
}

}  // namespace arbiter
