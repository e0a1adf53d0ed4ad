// libFuzzer's entry for programs that keep their own main (LLVM 11+): SwiftPM gives every
// executable a main of its own, so each fuzz target calls this instead of linking libFuzzer's.
#ifndef CFUZZ_H
#define CFUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
#endif
