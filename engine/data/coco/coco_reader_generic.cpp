// Portable copy of the COCO reader, for CPUs without AVX2.
#define MLS_COCO_READER_NS generic_reader
#include "data/coco/coco_reader_impl.inc"
