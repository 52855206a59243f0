// Which layers share which KV blocks: vLLM's hybrid KV cache groups with one block size. The layers of one
// attention kind (full attention, or one sliding window W) are cut into groups of `layersPerBlock` layers, the
// layer count of the smallest kind, so a block of any group has the same bytes and one pool serves them all;
// the last group of a kind may hold fewer layers (its blocks leave those slots unused). Each group has its
// own block table per sequence, and the scheduler frees a sliding group's blocks once their tokens left the
// window of every later query, so a sequence's KV grows with its full-attention layers only.
//
// A model without sliding layers (or with every layer sliding by one window) is one group of every layer:
// the pool layout and block tables are then exactly those of a plain paged cache. The step's table of a
// sequence interleaves the groups: entry i * nGroups + g is group g's block of positions
// [i * blockSize, (i + 1) * blockSize), -1 (no block) where that group's window no longer reaches.
#pragma once
#include <vector>

#include "model-config.h"

namespace loom {

struct KvGroup {
  int window = 0;           // 0: full attention; W > 0: the layers' sliding window
  std::vector<int> layers;  // model layers, ascending; layers[s] lives in slot s of the group's blocks
};

struct KvLayout {
  std::vector<KvGroup> groups;  // full-attention groups first, then by window ascending
  int layersPerBlock = 0;       // layer slots of one block
  std::vector<int> groupOf;     // [nLayers] the layer's group
  std::vector<int> slotOf;      // [nLayers] its slot in that group's blocks

  int nGroups() const { return (int)groups.size(); }
};

KvLayout kvLayoutOf(const ModelConfig& c);

}  // namespace loom
