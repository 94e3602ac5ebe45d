#!/usr/bin/env bash
# Builds the CUDA-enabled binaries on this machine and packs into .gpu-bundle/bundle.tar.xz everything that
# bench/gpu/run.sh needs on a bare GPU machine that lacks this project's build dependencies: the two
# binaries (stripped; kernels for sm_90, the H100 and H200 the check runs on), the shared libraries they
# load that such a machine may not have, and the parity fixtures from ../shared (xz-compressed: about 30 MB
# instead of 80, to keep the copy small). cuBLAS and the CUDA driver are not bundled: run.sh takes them
# from the GPU machine (the CUDA runtime itself is linked statically). Usage: bash bench/gpu/prepare.sh
#   BUILD_DIR=...   build directory (default build/gpu-bundle); configured with ARBITER_NATIVE=OFF so that
#                   the binaries run on any x86-64-v3 processor
#   SHARED_DIR=...  the reference fixtures (default ../shared)
#   JOBS=...        parallel compile jobs (default 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/gpu-bundle}
shared=${SHARED_DIR:-$root/../shared}
bundle=$root/.gpu-bundle
staging=$build/gpu-bundle-staging

# The bundle must never be committed, and .gitignore is shared: ignore it locally.
exclude=$(cd "$root" && git rev-parse --path-format=absolute --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
touch "$exclude"
grep -qx '/.gpu-bundle/' "$exclude" || echo '/.gpu-bundle/' >>"$exclude"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DARBITER_CUDA=ON -DARBITER_NATIVE=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DARBITER_BENCH=OFF >/dev/null
cmake --build "$build" --target arbiter test_cuda -j"${JOBS:-2}"

rm -rf "$staging" "$bundle"
mkdir -p "$staging/bin" "$staging/lib" "$staging/lib-fallback" "$staging/shared/fixtures" "$bundle"
for exe in arbiter test_cuda; do
  cp "$build/$exe" "$staging/bin/"
  strip "$staging/bin/$exe"
done

# Every library the binaries load, except the C library's own (the GPU machine's glibc is at least as new),
# the CUDA driver and cuBLAS (the GPU machine's must match its driver). libstdc++ and libgcc_s go to
# lib-fallback: run.sh uses them only if the machine's own are too old to start the binaries.
for lib in $(ldd "$staging"/bin/* | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u); do
  name=$(basename "$lib")
  case "$name" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*|libutil.so.*) ;;
    libcublas*|libcuda.so*|libcudart*) ;;
    libstdc++.so.*|libgcc_s.so.*) cp -L "$lib" "$staging/lib-fallback/" ;;
    *) cp -L "$lib" "$staging/lib/" ;;
  esac
done

cp -r "$shared/fixtures/hf" "$shared/fixtures/gguf" "$staging/shared/fixtures/"
(cd "$root" && git rev-parse HEAD 2>/dev/null || echo unknown) >"$bundle/COMMIT"
{
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(ldd --version | head -1)"
  echo "nvcc: $(nvcc --version | tail -1)"
  echo "commit: $(cat "$bundle/COMMIT") (working tree may differ: see git status at build time)"
} >"$bundle/BUILD_INFO"
cp "$bundle/BUILD_INFO" "$staging/"
du -sh "$staging"/* | sort -h
tar -cJf "$bundle/bundle.tar.xz" -C "$staging" .
du -sh "$bundle"
