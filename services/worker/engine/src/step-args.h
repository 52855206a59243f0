// Validation of step() arguments (EngineSeq[] from JS) and their copy into the engine's StepInput.
#pragma once
#include <node_api.h>

#include "engine.h"

namespace loom {

// Validates seqs against the engine's limits and copies them into e.input(). Throws JsError (TypeError /
// RangeError) naming the offending field, e.g. "seqs[2].blockTable[3] = 99 is not a block id (numBlocks 64)".
void stageStep(napi_env env, Engine& e, napi_value seqs);

}  // namespace loom
