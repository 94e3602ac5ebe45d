#!/usr/bin/env bash
# The GPU check, in one run on the GPU machine (see README.md): prints the card,
# runs the CUDA parity tests (against the fixtures' float64 references and against the CPU backend), the
# cuBLAS bf16 GEMM rate, arbiter's prefill throughput at the Llama-3-8B and Llama-3.2-1B shapes, and
# Hugging Face transformers' at the same shapes. Writes gpu-summary.md and the raw logs to $OUT.
# Needs .gpu-bundle/ (bench/gpu/prepare.sh) in the checkout; builds nothing.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp/arbiter-gpu-out}
mkdir -p "$out"
summary=$out/gpu-summary.md
: >"$summary"
say() { echo "$@" | tee -a "$summary"; }
started=$(date +%s)
elapsed() { echo $(($(date +%s) - started)); }
# One deadline for every step (the device call itself stops at 600 s): a step gets what it asks or what is
# left before the deadline, less a margin for the table; with under 20 s left it is skipped, so a slow
# step costs the steps after it, never the summary.
deadline=$((started + ${RUN_BUDGET_S:-540}))
step_limit() {  # prints the seconds a step asking for $1 may take; fails when too little is left
  local left=$((deadline - $(date +%s) - 15))
  [ "$left" -ge 20 ] || return 1
  echo $(($1 < left ? $1 : left))
}

say "# arbiter on the GPU: parity and prefill ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
say ""
# The bundle (bench/gpu/prepare.sh), unpacked with Python's tarfile: xz(1) may be missing there.
bundle=/tmp/arbiter-gpu-bundle
rm -rf "$bundle"
mkdir -p "$bundle"
if ! python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
    "$root/.gpu-bundle/bundle.tar.xz" "$bundle" 2>"$out/start-error.txt"; then
  say "could not unpack .gpu-bundle/bundle.tar.xz (run bench/gpu/prepare.sh and copy .gpu-bundle with the checkout): $(head -c 300 "$out/start-error.txt")"
  exit 2  # nothing below could run: no binaries
fi
say "bundle: $(cat "$bundle/BUILD_INFO" 2>/dev/null | tr '\n' ';')"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1
say '```'
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv 2>&1 | tee -a "$summary"
say '```'

# cuBLAS: the GPU machine's own, from the CUDA toolkit or the pip package torch uses.
cublas_dir=""
candidates="/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib"
site=$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null)
for dir in $candidates $(find $site /usr/local /opt -name 'libcublas.so.13' -printf '%h\n' 2>/dev/null | sort -u); do
  if [ -e "$dir/libcublas.so.13" ] && [ -e "$dir/libcublasLt.so.13" ]; then cublas_dir=$dir; break; fi
done
say "cuBLAS from: ${cublas_dir:-NOT FOUND}"
# The bundled libraries and cuBLAS for arbiter's binaries only: exported, they would also come before
# torch's own libraries in the transformers run.
libs="$bundle/lib:$cublas_dir"
with_libs() { LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }
if ! with_libs "$bundle/bin/arbiter" --version >/dev/null 2>"$out/start-error.txt"; then
  say "the binaries did not start with the machine's libstdc++; trying the bundled one: $(head -c 300 "$out/start-error.txt")"
  libs="$bundle/lib:$bundle/lib-fallback:$cublas_dir"
fi
with_libs ldd "$bundle/bin/arbiter" | grep -i "not found" | tee -a "$summary"
arbiter=$bundle/bin/arbiter

# The table of what bench.jsonl and hf.jsonl hold so far.
table() {
  python3 - "$out/bench.jsonl" "$out/hf.jsonl" <<'PY' | tee -a "$summary"
import json, sys
def rows(path):
    out = []
    try:
        lines = open(path).readlines()
    except OSError:
        return out
    for line in lines:
        line = line.strip()
        if line:
            try: out.append(json.loads(line))
            except json.JSONDecodeError: print("unparsed line:", line[:200])
    return out
ours, hf = rows(sys.argv[1]), rows(sys.argv[2])
gemm = next((r["tflops"] for r in ours if "gemm" in r), None)
print()
print("## Prefill, bf16, sequence-classification head, median of 5 after 2 warm-ups")
print()
print(f"cuBLAS bf16 8192^3 GEMM: {gemm:.0f} TFLOP/s (the MFU ceiling)" if gemm else "cuBLAS GEMM: not measured")
print()
print("| shape | batch x tokens | arbiter tokens/s | arbiter TFLOP/s | transformers tokens/s | transformers TFLOP/s | arbiter / transformers | arbiter MFU vs GEMM | transformers MFU vs GEMM |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for shape in ("llama-3-8b", "llama-3.2-1b"):
    for b, t in ((8, 1024), (32, 512), (64, 256)):
        a = next((r for r in ours if r.get("shape") == shape and r.get("batch") == b and r.get("tokens_per_sequence") == t), None)
        h = next((r for r in hf if r.get("shape") == shape and r.get("batch") == b and r.get("tokens_per_sequence") == t), None)
        cell = lambda r, k, f: (f % r[k]) if r else "failed"
        ratio = f"{a['tokens_per_second'] / h['tokens_per_second']:.2f}x" if a and h else "-"
        mfu_a = f"{100 * a['tflops'] / gemm:.0f}%" if a and gemm else "-"
        mfu_h = f"{100 * h['tflops'] / gemm:.0f}%" if h and gemm else "-"
        print(f"| {shape} | {b} x {t} | {cell(a, 'tokens_per_second', '%.0f')} | {cell(a, 'tflops', '%.0f')} | "
              f"{cell(h, 'tokens_per_second', '%.0f')} | {cell(h, 'tflops', '%.0f')} | {ratio} | {mfu_a} | {mfu_h} |")
if hf:
    print()
    print(f"transformers: {hf[0].get('engine')}, torch {hf[0].get('torch')}, attention {hf[0].get('attention')}")
PY
}

# 1. Parity (about half a minute). Both attention kernels, every fixture, random models against the CPU.
say ""
say "## Parity (test_cuda)"
if limit=$(step_limit 240); then
  ARBITER_SHARED_DIR=$bundle/shared with_libs timeout "$limit" "$bundle/bin/test_cuda" --gtest_color=no >"$out/parity.log" 2>&1
  parity_rc=$?
else
  parity_rc="skipped (no time left)"
fi
say '```'
grep -E '^\[cuda (parity|random)\]|^\[  (PASSED|SKIPPED) +\] [0-9]|^\[  FAILED  \]|^\[==========\] [0-9]+ tests? from' "$out/parity.log" | tee -a "$summary"
grep -B2 -A6 'Failure' "$out/parity.log" | head -60 | tee -a "$summary"
say '```'
say "test_cuda exit code: $parity_rc (after $(elapsed) s)"

# 2. The ceiling: one cuBLAS bf16 8192^3 GEMM.
: >"$out/bench.jsonl"
if limit=$(step_limit 60); then
  with_libs timeout "$limit" "$arbiter" bench --device cuda --gemm 8192 --repeat 10 --json | tr -d '\n' >>"$out/bench.jsonl"
  echo >>"$out/bench.jsonl"
fi

# 3. arbiter prefill, median of 5 after 2 warm-ups, random bf16 weights made on the GPU.
for shape in llama-3-8b llama-3.2-1b; do
  for bt in 8x1024 32x512 64x256; do
    b=${bt%x*}
    t=${bt#*x}
    limit=$(step_limit 120) || { say "skipped $shape $bt: no time left"; continue; }
    with_libs timeout "$limit" "$arbiter" bench --device cuda --shape "$shape" --head classifier --batch "$b" --tokens "$t" \
      --warmup 2 --repeat 5 --json 2>>"$out/bench-stderr.txt" | tr -d '\n' | sed "s/^{/{\"shape\": \"$shape\", /" >>"$out/bench.jsonl"
    echo >>"$out/bench.jsonl"
  done
done
say "arbiter benchmarks done after $(elapsed) s"
table  # arbiter's numbers in the summary now, in case the transformers runs do not finish

# 4. transformers at the same shapes and the same timing method.
: >"$out/hf.jsonl"
for shape in llama-3-8b llama-3.2-1b; do
  limit=$(step_limit 240) || { say "skipped transformers $shape: no time left"; continue; }
  PYTHONUNBUFFERED=1 timeout "$limit" python3 "$root/bench/gpu/hf_prefill.py" --shape "$shape" >>"$out/hf.jsonl" 2>>"$out/hf-stderr.txt"
done
say "transformers benchmarks done after $(elapsed) s"

# 5. The table, with both engines.
table
say ""
say "total $(elapsed) s; logs: parity.log, bench.jsonl, hf.jsonl, nvidia-smi.txt, bench-stderr.txt, hf-stderr.txt"
tail -c 2000 "$out/bench-stderr.txt" 2>/dev/null | grep -v "^creating random" | tail -5
tail -c 1500 "$out/hf-stderr.txt" 2>/dev/null | tail -8
# The exit status is the parity tests': a failed or skipped parity run is not a passed check, whatever the
# benchmarks measured.
case "$parity_rc" in
  0) exit 0 ;;
  [0-9]*) exit "$parity_rc" ;;
  *) exit 3 ;;
esac
