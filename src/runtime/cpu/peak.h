// The arithmetic peak of the cores the thread pool runs on, measured rather than derived from a nominal
// clock (turbo and shared hosts make /proc/cpuinfo's MHz a poor guide): every pool thread runs
// independent chains of the instruction the matmul uses for a short while, and the rates are summed.
#pragma once

#include "runtime/cpu/matmul.h"

namespace arbiter {

// FLOP/s of f32 FMAs (kF32) or of bf16 dot products (kBf16: VDPBF16PS, 2 products and 2 adds per f32
// lane) over all pool threads; about 0.1 s. 0 when the instruction is not available.
double measure_cpu_peak_flops(MatmulPrecision arithmetic);

}  // namespace arbiter
