#include "runtime/cpu/gemm_bf16.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
// Every function that touches AVX-512 registers carries the target itself, so that a build for an older
// baseline (ARBITER_NATIVE=OFF) still has the kernel and picks it at run time.
#define ARB_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))
#define ARB_HAVE_BF16_KERNEL 1
#endif

namespace arbiter {
namespace {

// Round to nearest even, the rounding VCVTNE2PS2BF16 applies; NaN stays NaN (quiet).
inline uint16_t round_bf16_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

#if defined(ARB_HAVE_BF16_KERNEL)
// src[0..2 * pairs) as bf16 pairs: dst[p] = bf16(src[2p]) | bf16(src[2p + 1]) << 16. src holds an even
// count (callers pad an odd row with a zero).
ARB_BF16_TARGET void f32_to_bf16_pairs(const float* src, int64_t pairs, uint32_t* dst) {
  int64_t p = 0;
  for (; p + 16 <= pairs; p += 16) {
    const __m512 lo = _mm512_loadu_ps(src + 2 * p), hi = _mm512_loadu_ps(src + 2 * p + 16);
    _mm512_storeu_si512(dst + p, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
  }
  for (; p < pairs; ++p) dst[p] = uint32_t(round_bf16_bits(src[2 * p])) | uint32_t(round_bf16_bits(src[2 * p + 1])) << 16;
}
#endif

}  // namespace

bool bf16_gemm_supported() {
#if defined(ARB_HAVE_BF16_KERNEL)
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return supported;
#else
  return false;
#endif
}

void round_to_bf16(float* values, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const uint32_t bits = uint32_t(round_bf16_bits(values[i])) << 16;
    std::memcpy(values + i, &bits, 4);
  }
}

#if defined(ARB_HAVE_BF16_KERNEL)

ARB_BF16_TARGET void pack_weight_block_bf16(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc,
                                            uint16_t* dst, float* scratch) {
  const int64_t pairs = (kc + 1) / 2;
  uint32_t* out = reinterpret_cast<uint32_t*>(dst);  // one uint32 = one feature's pair
  // Each row becomes `pairs` uint32 in the scratch (after its f32 decode, which is read first), and the
  // panel takes them transposed: out[p * NR + r] = row r's pair p.
  uint32_t* converted = reinterpret_cast<uint32_t*>(scratch + kc + 1);
  for (int64_t p0 = 0; p0 < nc; p0 += kBf16NR) {
    const int64_t live = std::min<int64_t>(kBf16NR, nc - p0);
    uint32_t* panel = out + p0 * pairs;
    for (int64_t r = 0; r < kBf16NR; ++r) {
      if (r >= live) {  // past the last row: zero, so the edge tile's extra outputs are zero
        for (int64_t p = 0; p < pairs; ++p) panel[p * kBf16NR + r] = 0;
        continue;
      }
      const uint8_t* row = w.row(o0 + p0 + r);
      const uint32_t* row_pairs = converted;
      if (w.dtype == DType::BF16 && w.in % 2 == 0) {
        // Already bf16: the stored pairs are the panel's (an even row width keeps rows, k0 and kc even,
        // so the pairs are whole and 4-byte aligned).
        row_pairs = reinterpret_cast<const uint32_t*>(row + 2 * k0);
      } else {
        decode_row_span(w, row, k0, kc, scratch);
        scratch[kc] = 0.0f;  // the odd element's partner
        f32_to_bf16_pairs(scratch, pairs, converted);
      }
      for (int64_t p = 0; p < pairs; ++p) panel[p * kBf16NR + r] = row_pairs[p];
    }
  }
}

ARB_BF16_TARGET void pack_token_block_bf16(const float* x, int64_t ldx, int64_t mc, int64_t kc, uint32_t* dst) {
  const int64_t pairs = (kc + 1) / 2;
  alignas(64) float padded[2];
  uint32_t converted[256];
  for (int64_t i = 0; i < mc; i += kBf16MR) {
    const int64_t live = std::min<int64_t>(kBf16MR, mc - i);
    uint32_t* panel = dst + i * pairs;
    for (int64_t r = 0; r < kBf16MR; ++r) {
      if (r >= live) {
        for (int64_t p = 0; p < pairs; ++p) panel[p * kBf16MR + r] = 0;
        continue;
      }
      const float* src = x + (i + r) * ldx;
      // In chunks that fit `converted`; the last pair of an odd kc is built from the element and a zero.
      const int64_t even_pairs = kc / 2;
      for (int64_t p0 = 0; p0 < even_pairs; p0 += 256) {
        const int64_t count = std::min<int64_t>(256, even_pairs - p0);
        f32_to_bf16_pairs(src + 2 * p0, count, converted);
        for (int64_t p = 0; p < count; ++p) panel[(p0 + p) * kBf16MR + r] = converted[p];
      }
      if (kc % 2 != 0) {
        padded[0] = src[kc - 1];
        padded[1] = 0.0f;
        f32_to_bf16_pairs(padded, 1, converted);
        panel[(pairs - 1) * kBf16MR + r] = converted[0];
      }
    }
  }
}

// Two zmm of weight pairs per step and one broadcast token pair per row: 16 VDPBF16PS per 2 loads + 8
// broadcasts, each adding 32 products; the same shape as the f32 kernel at twice the products per
// instruction.
ARB_BF16_TARGET void gemm_bf16_micro_kernel(int64_t pairs, const uint32_t* x_panel, const uint16_t* w_panel, float* c,
                                            int64_t ldc, bool add) {
  __m512 acc[kBf16MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < kBf16MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const uint32_t* a = x_panel;
  const uint16_t* b = w_panel;
  for (int64_t p = 0; p < pairs; ++p) {
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_load_si512(b));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_load_si512(b + 32));
#pragma GCC unroll 8
    for (int r = 0; r < kBf16MR; ++r) {
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(a[r])));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
    a += kBf16MR;
    b += 2 * kBf16NR;
  }
#pragma GCC unroll 8
  for (int r = 0; r < kBf16MR; ++r) {
    float* row = c + r * ldc;
    __m512 lo = acc[r][0], hi = acc[r][1];
    if (add) {
      lo = _mm512_add_ps(_mm512_loadu_ps(row), lo);
      hi = _mm512_add_ps(_mm512_loadu_ps(row + 16), hi);
    }
    _mm512_storeu_ps(row, lo);
    _mm512_storeu_ps(row + 16, hi);
  }
}

#else

// Not an x86-64 build: matmul never calls these (bf16_gemm_supported() is false).
void pack_weight_block_bf16(const WeightRows&, int64_t, int64_t, int64_t, int64_t, uint16_t*, float*) {}
void pack_token_block_bf16(const float*, int64_t, int64_t, int64_t, uint32_t*) {}
void gemm_bf16_micro_kernel(int64_t, const uint32_t*, const uint16_t*, float*, int64_t, bool) {}

#endif

}  // namespace arbiter
