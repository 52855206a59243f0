// AVX-512 (F/BW/VL/DQ) kernels. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mf16c -mfma.
#define LOOM_AVX512_NAME "avx512"
#include "kernels-avx512-traits.h"
#include "kernels-impl.h"

const loom::KernelSet& loom::avx512Kernels() { return kSet; }
