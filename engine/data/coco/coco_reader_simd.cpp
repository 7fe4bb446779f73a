// AVX2 copy of the COCO reader (compiled with -mavx2 -mbmi2 -mpclmul; used only when the CPU has them).
#define MLS_COCO_READER_NS simd_reader
#include "data/coco/coco_reader_impl.inc"
