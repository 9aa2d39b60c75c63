// tests/cuda_emu/runtime_state.h — the emulated device's error state, shared by the runtime calls and the
// launcher: a last error that cudaGetLastError clears, and a sticky one (a kernel fault) that nothing clears.
#pragma once
#include <string>

#include "cuda_runtime.h"

namespace bplab_emu {

void set_error(cudaError_t error, const std::string& message);
void set_sticky_error(cudaError_t error, const std::string& message);
/// After a kernel fault the context is unusable, as on a GPU: later launches do nothing.
bool launch_blocked();

}  // namespace bplab_emu
