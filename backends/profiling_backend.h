// backends/profiling_backend.h — where a step's time goes: while a BackendProfiler is alive, every backend call
// on its device is timed (waiting for the device before and after), per op name. For benchmarks, not training.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace bplab {

/// Time spent in one backend op (e.g. "attention_backward") while a profiler was alive.
struct OpTime {
    std::string op;
    std::int64_t calls = 0;
    double seconds = 0;
};

/// Puts a timing wrapper in front of `device`'s backend for its lifetime; restores the previous one after.
/// The wrapper waits for the device around each call, so the times are the ops' own (kernel launches and
/// queueing included) and the profiled run is slower than an unprofiled one. Profilers of one device nest.
class BackendProfiler {
public:
    explicit BackendProfiler(Device device);
    ~BackendProfiler();
    BackendProfiler(const BackendProfiler&) = delete;
    BackendProfiler& operator=(const BackendProfiler&) = delete;

    /// One entry per op called so far, most time first.
    std::vector<OpTime> report() const;
    /// Forgets the times recorded so far.
    void reset();

private:
    class TimingBackend;
    std::unique_ptr<TimingBackend> timing_;
    Device device_;
    Backend* previous_;
};

}  // namespace bplab
