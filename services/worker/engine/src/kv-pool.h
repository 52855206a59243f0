// The paged KV cache: one anonymous mapping of numBlocks fixed-size blocks.
// Layout: [layersPerBlock][2 (K, V)][numBlocks][blockSize][kvDim], elements f16 or f32: layer-slot major, so the K
// (or V) planes of one layer slot of blocks with adjacent ids are adjacent, and a sequence whose blocks have adjacent
// ids reads one long run per layer in attention (measured faster than blocks whose planes of every layer sat together:
// docs/benchmarks.md). A block holds the K and V of one KV cache group's layers (kv-layout.h; every layer when the
// model has no sliding window) for blockSize consecutive positions of one sequence, its planes [blockSize][kvDim]
// contiguous; block ids are the scheduler's, this layout within the pool is the engine's. Token at position p of a
// sequence lives, for a layer of group g in slot s, in block bt[(p / blockSize) * nGroups + g], layer slot s, row
// p % blockSize.
#pragma once
#include <cstddef>
#include <cstdint>

namespace loom {

enum class KvType { F16, F32 };

class KvPool {
 public:
  KvPool(int numBlocks, int blockSize, int layersPerBlock, int kvDim, KvType type);
  ~KvPool();
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  static size_t bytesPerBlock(int blockSize, int layersPerBlock, int kvDim, KvType type) {
    return (size_t)layersPerBlock * 2 * (size_t)blockSize * (size_t)kvDim * eltBytes(type);
  }
  static size_t eltBytes(KvType t) { return t == KvType::F16 ? 2 : 4; }

  int numBlocks() const { return numBlocks_; }
  int blockSize() const { return blockSize_; }
  KvType type() const { return type_; }

  // Start of the [blockSize][kvDim] K (kv = 0) or V (kv = 1) rows of layer slot `slot` in `block`.
  uint8_t* rows(int block, int slot, int kv) const {
    return base_ + (((size_t)slot * 2 + (size_t)kv) * (size_t)numBlocks_ + (size_t)block) * planeBytes_;
  }
  size_t rowBytes() const { return rowBytes_; }

 private:
  int numBlocks_, blockSize_, layersPerBlock_, kvDim_;
  KvType type_;
  size_t rowBytes_, planeBytes_, blockBytes_, totalBytes_;
  uint8_t* base_ = nullptr;
};

}  // namespace loom
