// backends/cuda/device.h — is there a usable GPU, and which one: the check CUDA code and tests start with.
// Compiles with nvcc on any machine; at run time it answers 0 devices where no driver or GPU is present.
#pragma once
#include <string>

namespace bplab::cuda {

/// Number of CUDA devices this process can use (0 without a driver or GPU; never throws).
int device_count();
/// "NVIDIA H100 80GB HBM3, compute 9.0, 79.6 GiB" for device `index`; throws if there is none.
std::string device_description(int index = 0);

/// Waits until the current device has finished all queued work (timing, and errors of earlier launches).
void synchronize();

}  // namespace bplab::cuda
