#include "kv-layout.h"

#include <algorithm>
#include <map>

namespace loom {

KvLayout kvLayoutOf(const ModelConfig& c) {
  std::map<int, std::vector<int>> byWindow;  // window (0 = full first) -> its layers, ascending
  for (int l = 0; l < c.nLayers; l++) byWindow[c.layers[(size_t)l].window].push_back(l);
  KvLayout out;
  out.layersPerBlock = c.nLayers;
  for (const auto& kind : byWindow) out.layersPerBlock = std::min(out.layersPerBlock, (int)kind.second.size());
  out.groupOf.assign((size_t)c.nLayers, 0);
  out.slotOf.assign((size_t)c.nLayers, 0);
  const size_t P = (size_t)out.layersPerBlock;
  for (const auto& [window, layers] : byWindow) {
    for (size_t at = 0; at < layers.size(); at += P) {
      KvGroup g;
      g.window = window;
      g.layers.assign(layers.begin() + (long)at, layers.begin() + (long)std::min(layers.size(), at + P));
      for (size_t s = 0; s < g.layers.size(); s++) {
        out.groupOf[(size_t)g.layers[s]] = (int)out.groups.size();
        out.slotOf[(size_t)g.layers[s]] = (int)s;
      }
      out.groups.push_back(std::move(g));
    }
  }
  return out;
}

}  // namespace loom
