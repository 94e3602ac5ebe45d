// Included first by files whose float results must match the reference formats bit for bit.
// The formats are defined by separately rounded operations (d * q - m in dequantization, x * id + 0.5
// in quantization). -march=native lets the compiler fuse such pairs into FMAs, which skips a rounding:
// harmless while d * q is exact, but it moves quantizer rounding boundaries and subnormal results.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
