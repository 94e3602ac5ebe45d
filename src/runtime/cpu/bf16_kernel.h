// What the bf16 kernel files (gemm_bf16.cpp, block_rows_bf16.cpp) share: the target attribute that
// compiles AVX-512 BF16 code into any x86-64 build, the fixed-order lane sum, and the row path's grouping
// of tokens. Only those files include this header; everything in it is used only after
// bf16_gemm_supported() said yes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#if defined(__x86_64__)
#include <immintrin.h>
// Every function that touches AVX-512 registers carries the target itself, so that a build for an older
// baseline (ARBITER_NATIVE=OFF) still has the kernel and picks it at run time.
#define ARB_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma,f16c")))
#define ARB_HAVE_BF16_KERNEL 1
#endif

namespace arbiter::bf16_kernel {

#if defined(ARB_HAVE_BF16_KERNEL)

// Sum of the 16 lanes in a fixed pairwise order: lane i + lane i + 8, then + i + 4, + i + 2, + i + 1,
// each step one vector add of moved lanes. The zero-masking forms with every lane on are the plain
// instructions: g++ 12 warns falsely about the unmasked intrinsics' undefined pass-through operand (and
// about its 256-bit casts).
ARB_BF16_TARGET inline float lane_sum(__m512 v) {
  constexpr __mmask16 kAll = 0xffff;
  const __m512 eight = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(kAll, v, v, 0xee));
  const __m512 four = _mm512_add_ps(eight, _mm512_maskz_shuffle_f32x4(kAll, eight, eight, 0x01));
  const __m512 two = _mm512_add_ps(four, _mm512_maskz_permute_ps(kAll, four, 0x0e));
  return _mm512_cvtss_f32(_mm512_add_ps(two, _mm512_maskz_permute_ps(kAll, two, 0x01)));
}

#endif

// Column o of y for every token, up to four tokens per read of the weight row:
// y[t, o] (+)= sums from dot(std::integral_constant<int, T>, tokens of the group, sums).
// Each token's sum comes out of the same operations whatever T is, so a row-path product does not
// depend on how many tokens share the call.
template <class Dot>
void write_token_groups(const uint32_t* tokens, int64_t ld, int64_t n, float* y, int64_t ldy, bool accumulate,
                        int64_t o, const Dot& dot) {
  for (int64_t t0 = 0; t0 < n; t0 += 4) {
    float sums[4];
    const uint32_t* x = tokens + t0 * ld;
    const int64_t group = std::min<int64_t>(4, n - t0);
    switch (group) {
      case 1: dot(std::integral_constant<int, 1>(), x, sums); break;
      case 2: dot(std::integral_constant<int, 2>(), x, sums); break;
      case 3: dot(std::integral_constant<int, 3>(), x, sums); break;
      default: dot(std::integral_constant<int, 4>(), x, sums); break;
    }
    for (int64_t t = 0; t < group; ++t) {
      float& out = y[(t0 + t) * ldy + o];
      out = accumulate ? out + sums[t] : sums[t];
    }
  }
}

}  // namespace arbiter::bf16_kernel
