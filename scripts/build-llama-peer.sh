#!/usr/bin/env bash
# Builds the speed peer, llama.cpp, natively from the source node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle: the tree its prebuilt binaries come from), so
# benchmarks compare against the same llama.cpp the tests use as a correctness oracle, built for this
# CPU (-DGGML_NATIVE=ON). The engine benchmark and the serving comparison both use it.
#
# Usage: scripts/build-llama-peer.sh [DEST]   (from the project root, after npm install)
#   DEST defaults to $LOOM_PEER_DIR or ~/.cache/loom-peer/llama.cpp: outside the repository, so the
#   clone never shows up in git or in the linters. Prints the bin folder (llama-server,
#   llama-batched-bench, llama-bench, llama-embedding). About 10 minutes on 2 cores; a second run
#   only rebuilds what changed. Extra cmake flags through LLAMA_CMAKE_FLAGS (e.g. -DGGML_CUDA=ON).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$root/node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -f "$bundle" ] || { echo "no $bundle: run npm install in the project first" >&2; exit 1; }
dest=${1:-${LOOM_PEER_DIR:-$HOME/.cache/loom-peer/llama.cpp}}
case "$dest/" in "$root"/*) echo "$dest is inside the repository; build the peer outside it" >&2; exit 1 ;; esac
[ -d "$dest/.git" ] || git clone -q "$bundle" "$dest"
cd "$dest"
cmake -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF ${LLAMA_CMAKE_FLAGS:-} >/dev/null
cmake --build build -j"$(nproc)" --target llama-server llama-batched-bench llama-bench llama-embedding >/dev/null
echo "$dest/build/bin"
