# experiments/bench/mlp_step_torch.py — times one PyTorch training step of MLP 784-H-10 (ReLU) on the CPU.
# Why: the baseline that bplab's own MLP step benchmark is compared with (same shapes, same thread counts).
"""Time one float32 training step of MLP 784-H-10 (ReLU) with PyTorch on the CPU.

One step = zero_grad, forward, cross-entropy (mean), backward, torch.optim.SGD
update (plain: no momentum, no weight decay), on a fixed random batch. Steps are
timed one by one with time.perf_counter; the first --warmup steps are not counted.

Run with Debian's Python (it has torch):

    /usr/bin/python3 experiments/bench/mlp_step_torch.py --threads 1
    /usr/bin/python3 experiments/bench/mlp_step_torch.py --threads 2

The last line is machine-readable:

    RESULT framework=pytorch threads=N ms_median=X ms_mean=Y

Threads: torch.set_num_threads(N) sets ATen's OpenMP pool, but OpenBLAS (which does
the matrix products in Debian's torch) keeps its own pool. So the script also sets
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS to N before torch is imported (unless already
set) and then calls openblas_set_num_threads(N), and prints both counts.

Two thread pools on few cores fight: by default libgomp's idle threads spin for a
while after each parallel region, stealing the cores OpenBLAS's threads need (on a
2-core machine, threads=2 ran at ~3 ms median with 50 ms spikes instead of ~2 ms).
So OMP_WAIT_POLICY defaults to PASSIVE here (--omp-wait-policy, or set it yourself).

The benchmark measures the machine as it is: before timing it samples /proc/stat for
half a second and warns if other processes keep the CPUs busy.
"""

import argparse
import ctypes
import os
import statistics
import sys
import time

REFERENCE_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/blas/"           # Debian's reference BLAS (slow)
BLAS_ALTERNATIVE = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"


def parse_args(argv=None):
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description="Time one PyTorch CPU training step (forward, cross-entropy, backward, SGD) "
                    "of MLP 784-H-10 with ReLU, float32.")
    p.add_argument("--hidden", type=int, default=256, help="hidden units H (default 256)")
    p.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    p.add_argument("--steps", type=int, default=300, help="timed steps (default 300)")
    p.add_argument("--warmup", type=int, default=30, help="untimed steps before timing (default 30)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help=f"threads for torch and OpenBLAS (default: os.cpu_count() = {os.cpu_count()})")
    p.add_argument("--omp-wait-policy", choices=("passive", "active", "inherit"), default="passive",
                   help="OMP_WAIT_POLICY for libgomp: passive (default; idle OpenMP threads sleep "
                        "instead of spinning against OpenBLAS's threads), active, or inherit (leave the "
                        "environment as it is)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default 0.01; does not affect timing)")
    p.add_argument("--seed", type=int, default=2525, help="torch.manual_seed value (default 2525)")
    args = p.parse_args(argv)
    for name in ("hidden", "batch", "steps", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} {getattr(args, name)}: must be at least 1")
    if args.warmup < 0:
        p.error(f"--warmup {args.warmup}: must be at least 0")
    return args


def loaded_blas_libraries():
    """Return the real paths of the BLAS/LAPACK-like shared libraries mapped into this process."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 6:
                continue
            path = fields[5]
            base = os.path.basename(path).lower()
            if ".so" in base and any(key in base for key in ("blas", "lapack", "mkl", "blis")):
                found.add(os.path.realpath(path))
    return sorted(found)


def describe_blas(torch):
    """Work out which BLAS torch uses; return (description, openblas_library_path_or_None, is_reference).

    Looks at the libraries actually mapped after a matrix product, and at Debian's
    libblas.so.3 alternative.
    """
    a = torch.ones(64, 64)
    (a @ a).sum().item()                       # make sure the BLAS is loaded and used
    libs = loaded_blas_libraries()
    alternative = os.path.realpath(BLAS_ALTERNATIVE) if os.path.exists(BLAS_ALTERNATIVE) else None
    openblas = next((lib for lib in libs if "libopenblas" in os.path.basename(lib)), None)
    # Reference BLAS: libblas.so.3 resolved into Debian's blas/ directory and no optimised library.
    is_reference = (openblas is None and not any("mkl" in lib or "blis" in lib for lib in libs)) and \
        (alternative is None or alternative.startswith(REFERENCE_BLAS_DIR) or
         any(lib.startswith(REFERENCE_BLAS_DIR) for lib in libs))
    if openblas is not None:
        flavour = "pthread" if "openblas-pthread" in openblas or "libopenblasp" in openblas else \
                  "openmp" if "openblas-openmp" in openblas or "libopenblaso" in openblas else "serial/unknown"
        kind = f"OpenBLAS ({flavour}), {openblas}"
    elif is_reference:
        kind = "REFERENCE BLAS (netlib)"
    else:
        kind = "unknown"
    description = f"{kind}; libblas.so.3 alternative -> {alternative}; mapped: {', '.join(libs) or 'none'}"
    return description, openblas, is_reference


def openblas_threads(openblas_path, threads):
    """Set OpenBLAS's own thread count to `threads` and return what it reports, or None if unavailable."""
    if openblas_path is None:
        return None
    try:
        lib = ctypes.CDLL(openblas_path)   # already mapped: this returns the same library instance
        lib.openblas_set_num_threads(ctypes.c_int(threads))
        lib.openblas_get_num_threads.restype = ctypes.c_int
        lib.openblas_get_config.restype = ctypes.c_char_p
        return lib.openblas_get_num_threads(), lib.openblas_get_config().decode()
    except (OSError, AttributeError):
        return None


def busy_fraction(seconds=0.5):
    """Fraction of all CPU time that was not idle over `seconds` (this process sleeps meanwhile)."""
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)      # idle + iowait
        return sum(values), idle
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def build_model(torch, hidden, seed):
    """MLP 784-H-10 with ReLU: kaiming-normal (fan_in) weights, PyTorch default biases."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    for layer in (model[0], model[2]):
        torch.nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
    return model


def time_steps(torch, model, x, y, lr, warmup, steps):
    """Run warmup + steps training steps; return the timed steps' durations in milliseconds."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)     # plain SGD: no momentum, no weight decay
    loss_fn = torch.nn.CrossEntropyLoss()                       # mean over the batch
    times_ms = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=False)                  # keep and zero the gradient buffers
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times_ms.append(elapsed * 1e3)
    if not torch.isfinite(loss):
        raise RuntimeError(f"loss became {loss.item()} during the benchmark")
    return times_ms


def main(argv=None):
    """Set threads, check the BLAS, time the steps, print a human line and the RESULT line."""
    args = parse_args(argv)
    # Must happen before torch (and with it OpenBLAS / libgomp) is loaded.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    if args.omp_wait_policy != "inherit":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    import torch

    torch.set_num_threads(args.threads)
    blas, openblas_path, is_reference = describe_blas(torch)
    blas_threads = openblas_threads(openblas_path, args.threads)
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}, os.cpu_count() {os.cpu_count()}")
    print(f"BLAS: {blas}")
    if blas_threads is not None:
        print(f"OpenBLAS threads: {blas_threads[0]}  config: {blas_threads[1]}")
    if is_reference:
        print("WARNING: " + "=" * 70, file=sys.stderr)
        print("WARNING: torch is using the REFERENCE (netlib) BLAS: timings are meaningless.", file=sys.stderr)
        print("WARNING: install libopenblas0-pthread and select it with", file=sys.stderr)
        print("WARNING:   update-alternatives --config libblas.so.3-x86_64-linux-gnu", file=sys.stderr)
        print("WARNING: (and check LD_LIBRARY_PATH / LD_PRELOAD, which can override the choice)", file=sys.stderr)
        print("WARNING: " + "=" * 70, file=sys.stderr)
    elif openblas_path is None or "pthread" not in blas:
        print("warning: the BLAS is not libopenblas0-pthread; timings are not comparable "
              "with the recorded ones", file=sys.stderr)
    print(f"torch threads: {torch.get_num_threads()} (intra-op), {torch.get_num_interop_threads()} (inter-op); "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    busy = busy_fraction()
    print(f"CPU busy before timing (other processes): {100 * busy:.0f}%")
    if busy > 0.10:
        print(f"warning: the CPUs were {100 * busy:.0f}% busy before timing; "
              "timings will be slower and noisier than on a quiet machine", file=sys.stderr)

    model = build_model(torch, args.hidden, args.seed)
    x = torch.rand(args.batch, 784)                              # (B, 784) float32
    y = torch.randint(0, 10, (args.batch,))                      # (B,) int64
    times_ms = time_steps(torch, model, x, y, args.lr, args.warmup, args.steps)

    median, mean = statistics.median(times_ms), statistics.fmean(times_ms)
    print(f"pytorch MLP 784-{args.hidden}-10, batch {args.batch}, threads {args.threads}: "
          f"median {median:.4f} ms/step, mean {mean:.4f} ms/step, min {min(times_ms):.4f}, "
          f"max {max(times_ms):.4f} over {args.steps} steps (after {args.warmup} warm-up)")
    print(f"RESULT framework=pytorch threads={args.threads} ms_median={median:.4f} ms_mean={mean:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
