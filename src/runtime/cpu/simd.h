// One float vector type for the non-GEMM kernels (attention, activations): 16 lanes with AVX-512, 8
// with AVX2 + FMA, 1 otherwise, behind the same few operations so a kernel is written once. Every
// operation but the two reductions is lane-wise and uses a fused multiply-add where it multiplies and
// adds, so a lane's result does not depend on the vector width; reduce_add and reduce_max combine the
// lanes, so a sum's rounding does.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace arbiter::cpu::simd {

#if defined(__AVX512F__)

constexpr int kLanes = 16;
struct Vec {
  __m512 v;
};
// The all-lanes mask: the zero-masking forms compile to the plain instructions, and unlike the unmasked
// intrinsics they do not trip g++ 12's false "may be used uninitialized" on their undefined pass-through.
constexpr __mmask16 kAll = 0xffff;
inline Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void store(float* p, Vec a) { _mm512_storeu_ps(p, a.v); }
inline Vec set1(float x) { return {_mm512_set1_ps(x)}; }
// The first `count` (1..kLanes) floats at p, `fill` in the other lanes; nothing past them is read.
inline Vec load_first(const float* p, int count, float fill) {
  return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), __mmask16((1u << count) - 1u), p)};
}
// Stores lanes [0, count) only.
inline void store_first(float* p, int count, Vec a) { _mm512_mask_storeu_ps(p, __mmask16((1u << count) - 1u), a.v); }
// Lanes [0, count) of a, zero in the others.
inline Vec keep_first(Vec a, int count) { return {_mm512_maskz_mov_ps(__mmask16((1u << count) - 1u), a.v)}; }
inline Vec zero() { return {_mm512_setzero_ps()}; }
inline Vec fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }  // a * b + c
inline Vec mul(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline Vec add(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
inline Vec sub(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline Vec div(Vec a, Vec b) { return {_mm512_div_ps(a.v, b.v)}; }
inline Vec max(Vec a, Vec b) { return {_mm512_maskz_max_ps(kAll, a.v, b.v)}; }
inline Vec min(Vec a, Vec b) { return {_mm512_maskz_min_ps(kAll, a.v, b.v)}; }
inline Vec round_nearest(Vec a) {
  return {_mm512_maskz_roundscale_ps(kAll, a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
// 2^n for integral n in [-126, 127], built in the exponent bits.
inline Vec pow2(Vec n) {
  const __m512i biased = _mm512_add_epi32(_mm512_maskz_cvtps_epi32(kAll, n.v), _mm512_set1_epi32(127));
  return {_mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAll, biased, 23))};
}
// Through memory in a fixed pairwise order: called once per row, and g++ 12's _mm512_reduce_* trip the
// same false warning as above.
// Makes the compiler hold `a` in a register: a vector loaded once and used by several FMAs is otherwise
// often re-read from memory by each of them (a memory operand per FMA), which makes the kernel
// load-bound on cores that issue one 512-bit load per cycle.
inline void keep_in_register(Vec& a) { __asm__("" : "+v"(a.v)); }
inline float reduce_add(Vec a) {
  alignas(64) float t[16];
  _mm512_store_ps(t, a.v);
  for (int width = 8; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i) t[i] += t[i + width];
  return t[0];
}
inline float reduce_max(Vec a) {
  alignas(64) float t[16];
  _mm512_store_ps(t, a.v);
  for (int width = 8; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i) t[i] = t[i] > t[i + width] ? t[i] : t[i + width];
  return t[0];
}

#elif defined(__AVX2__) && defined(__FMA__)

constexpr int kLanes = 8;
struct Vec {
  __m256 v;
};
inline Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void store(float* p, Vec a) { _mm256_storeu_ps(p, a.v); }
inline Vec set1(float x) { return {_mm256_set1_ps(x)}; }
// All ones in lanes [0, count).
inline __m256i first_lanes(int count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline Vec load_first(const float* p, int count, float fill) {
  const __m256i live = first_lanes(count);
  return {_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, live), _mm256_castsi256_ps(live))};
}
inline void store_first(float* p, int count, Vec a) { _mm256_maskstore_ps(p, first_lanes(count), a.v); }
inline Vec keep_first(Vec a, int count) { return {_mm256_and_ps(a.v, _mm256_castsi256_ps(first_lanes(count)))}; }
inline Vec zero() { return {_mm256_setzero_ps()}; }
inline Vec fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec mul(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline Vec add(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
inline Vec sub(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline Vec div(Vec a, Vec b) { return {_mm256_div_ps(a.v, b.v)}; }
inline Vec max(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }
inline Vec min(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
inline Vec round_nearest(Vec a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline Vec pow2(Vec n) {
  return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23))};
}
inline void keep_in_register(Vec& a) { __asm__("" : "+x"(a.v)); }
inline float reduce_add(Vec a) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  return _mm_cvtss_f32(_mm_add_ss(lo, _mm_movehdup_ps(lo)));
}
inline float reduce_max(Vec a) {
  __m128 lo = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
  return _mm_cvtss_f32(_mm_max_ss(lo, _mm_movehdup_ps(lo)));
}

#else

constexpr int kLanes = 1;
struct Vec {
  float v;
};
inline Vec load(const float* p) { return {*p}; }
inline void store(float* p, Vec a) { *p = a.v; }
inline Vec set1(float x) { return {x}; }
inline Vec load_first(const float* p, int, float) { return {*p}; }  // count is 1 here
inline void store_first(float* p, int, Vec a) { *p = a.v; }
inline Vec keep_first(Vec a, int) { return a; }
inline Vec zero() { return {0.0f}; }
inline Vec fma(Vec a, Vec b, Vec c) { return {std::fma(a.v, b.v, c.v)}; }
inline Vec mul(Vec a, Vec b) { return {a.v * b.v}; }
inline Vec add(Vec a, Vec b) { return {a.v + b.v}; }
inline Vec sub(Vec a, Vec b) { return {a.v - b.v}; }
inline Vec div(Vec a, Vec b) { return {a.v / b.v}; }
inline Vec max(Vec a, Vec b) { return {a.v > b.v ? a.v : b.v}; }
inline Vec min(Vec a, Vec b) { return {a.v < b.v ? a.v : b.v}; }
inline Vec round_nearest(Vec a) { return {std::nearbyint(a.v)}; }
inline Vec pow2(Vec n) { return {n.v < -126.0f ? 0.0f : std::ldexp(1.0f, int(n.v))}; }  // as the exponent field
inline void keep_in_register(Vec&) {}
inline float reduce_add(Vec a) { return a.v; }
inline float reduce_max(Vec a) { return a.v; }

#endif

// e^x to about 2 ulp over the whole float range (below -87.3: 0; above 88.7: inf, via the clamp and
// 2^128 = inf). x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so n ln2 is exact enough), then a
// degree-6 polynomial for e^r: the classic single-precision reduction; NaN is not expected here.
inline Vec exp(Vec x) {
  x = min(max(x, set1(-87.33654f)), set1(88.72284f));
  const Vec n = round_nearest(mul(x, set1(1.44269504088896341f)));
  Vec r = fma(n, set1(-0.693359375f), x);
  r = fma(n, set1(2.12194440e-4f), r);
  Vec p = set1(1.9875691500e-4f);
  p = fma(p, r, set1(1.3981999507e-3f));
  p = fma(p, r, set1(8.3334519073e-3f));
  p = fma(p, r, set1(4.1665795894e-2f));
  p = fma(p, r, set1(1.6666665459e-1f));
  p = fma(p, r, set1(5.0000001201e-1f));
  p = fma(p, mul(r, r), add(r, set1(1.0f)));
  // n = 128 (x near 88.7) would overflow the exponent field: split as 2^(n-1) * 2.
  const Vec half_n = sub(n, set1(1.0f));
  return mul(mul(p, pow2(half_n)), set1(2.0f));
}

// 1 / (1 + e^-x)
inline Vec sigmoid(Vec x) { return div(set1(1.0f), add(set1(1.0f), exp(sub(zero(), x)))); }

}  // namespace arbiter::cpu::simd
