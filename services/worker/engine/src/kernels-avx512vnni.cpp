// AVX-512 + VNNI kernels: the avx512 set with the q8_0 x q8_0 block dot on vpdpbusd (bit-identical
// results, see kernels-avx512-traits.h). Compiled with the avx512 flags plus -mavx512vnni.
#define LOOM_AVX512_NAME "avx512vnni"
#define LOOM_AVX512_VNNI 1
#include "kernels-avx512-traits.h"
#include "kernels-impl.h"

const loom::KernelSet& loom::avx512vnniKernels() { return kSet; }
