// ggml's per-group scale searches behind the K-quant quantisers (ggml-quants.c: make_qkx2_quants,
// make_qx_quants, make_q3_quants), ported step for step in float arithmetic so the
// quantised bytes equal llama-quantize's. Internal to quant-k*.cpp.
#pragma once
#include <cstdint>

namespace loom::qsearch {

// Asymmetric quantisation of n values to [0, nmax] with a min, minimising the weighted error (|d| with
// useMad, else d^2) over nstep + 1 candidate scales (rmin + rdelta * is + nmax) / (max - min). Returns the
// scale; *theMin = -min (>= 0). L gets the quants, Laux is scratch [n].
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* theMin, uint8_t* Laux,
                     float rmin, float rdelta, int nstep, bool useMad);

// Symmetric quantisation to [-nmax, nmax - 1] stored + nmax, rmse_type 1 without importance weights
// (error weights x^2, a search over 18 nearby scales). Returns the scale.
float makeQxQuants(int n, int nmax, const float* x, int8_t* L);

// make_q3_quants with do_rmse: symmetric [-nmax, nmax - 1] stored + nmax, refined by coordinate descent.
float makeQ3Quants(int n, int nmax, const float* x, int8_t* L);

// Packs 8 6-bit (scale, min) pairs into q4_K / q5_K's 12 scale bytes (the inverse of quant-blocks.h's scaleMinK4).
void packScaleMinK4(const uint8_t* ls, const uint8_t* lm, uint8_t* q);

}  // namespace loom::qsearch
