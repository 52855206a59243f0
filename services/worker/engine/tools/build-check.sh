#!/bin/sh
# Builds build/engine-check, build/engine-bench and build/kernel-check (tools/*.cpp + the engine sources, no Node needed) with the same
# per-file instruction-set flags as build.mjs. Usage: sh services/worker/engine/tools/build-check.sh
set -e
cd "$(dirname "$0")/.."
mkdir -p build/check
# step-args.h includes node_api.h (headers only; nothing links against Node)
NODE_INC=$(node -p "require('path').join(process.execPath, '..', '..', 'include', 'node')" 2>/dev/null || true)
BASE="-std=c++17 -O3 -pthread -march=x86-64 ${NODE_INC:+-I$NODE_INC}"
for f in src/*.cpp; do
  name=$(basename "$f" .cpp)
  case "$name" in binding|step-args) continue ;; esac  # the N-API layer
  case "$name" in
    kernels-avx2) ISA="-mavx2 -mfma -mf16c" ;;
    kernels-avx512) ISA="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mf16c -mfma -Wno-uninitialized -Wno-maybe-uninitialized" ;;
    kernels-avx512vnni) ISA="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mf16c -mfma -Wno-uninitialized -Wno-maybe-uninitialized" ;;
    kernels-avx512bf16) ISA="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mf16c -mfma -Wno-uninitialized -Wno-maybe-uninitialized" ;;
    *) ISA="" ;;
  esac
  ${CXX:-g++} $BASE $ISA -c "$f" -o "build/check/$name.o" &
done
wait
${CXX:-g++} $BASE tools/engine-check.cpp build/check/*.o -o build/engine-check
${CXX:-g++} $BASE tools/engine-bench.cpp build/check/*.o -o build/engine-bench
${CXX:-g++} $BASE tools/kernel-check.cpp build/check/kernels*.o build/check/quant*.o build/check/ggml-types.o -o build/kernel-check
${CXX:-g++} $BASE tools/pool-stress.cpp src/thread-pool.cpp -o build/pool-stress
echo "built build/engine-check build/engine-bench build/kernel-check build/pool-stress"
