"""The machine under the stopwatch: its description, its other jobs, its
BLAS threads and the memory a call takes.  Used by timing.py and the study
of part 1f; nothing here times anything itself.
"""

import contextlib
import math
import os
import platform
import time

import numpy as np


def peak_meter(device="cpu"):
    """(start, stop): stop() gives the peak memory, in bytes, above the level
    at start(); None where it cannot be measured.  CPU: the process's peak
    resident set (Linux resets it when 5 is written to /proc/self/clear_refs),
    so NumPy and PyTorch count alike and the measured code runs untouched;
    resolution a page (2 MiB for transparent huge pages).  CUDA: torch's counters."""
    if str(device).startswith("cuda"):
        import torch
        base = [0]
        def start():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base[0] = torch.cuda.memory_allocated()
        return start, lambda: torch.cuda.max_memory_allocated() - base[0]
    def kb(field):
        with open("/proc/self/status") as fh:
            return next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith(field))
    base = [None]
    def start():
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            base[0] = kb("VmRSS:")
        except OSError:
            base[0] = None
    return start, lambda: None if base[0] is None else kb("VmHWM:") - base[0]


def cpu_seconds():
    """(CPU seconds used by the whole machine, by this process) since boot /
    start, from /proc/stat and os.times(); (nan, own) where /proc is missing.
    Their increments over a measurement tell how much other jobs ran."""
    t = os.times()
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:9]]
        machine = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")   # less idle, iowait
    except OSError:
        machine = math.nan
    return machine, t.user + t.system


def background_load(cpu_start, wall_start, min_wall_s=0.5):
    """Share of all CPUs that other processes used since ``cpu_start`` (from
    cpu_seconds()) and ``wall_start`` (time.perf_counter()); None for spans
    under min_wall_s, which the kernel's 10 ms tick cannot resolve."""
    wall, cpu = time.perf_counter() - wall_start, cpu_seconds()
    if wall < min_wall_s or math.isnan(cpu[0]):
        return None
    other = (cpu[0] - cpu_start[0]) - (cpu[1] - cpu_start[1])
    return min(1.0, max(0.0, other / (wall * (os.cpu_count() or 1))))


def _openblas():
    """(get, set) for the thread count of the OpenBLAS that NumPy loaded,
    called through ctypes as threadpoolctl does; None where not found."""
    import ctypes
    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower()
                           and ".so" in ln})
    except OSError:
        return None
    names = [("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
             ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
             ("openblas_get_num_threads", "openblas_set_num_threads")]
    for lib in libs:
        for get, set_ in names:
            try:
                dll = ctypes.CDLL(lib)
                return getattr(dll, get), getattr(dll, set_)
            except (OSError, AttributeError):
                continue
    return None


@contextlib.contextmanager
def blas_threads(n):
    """Run the block with NumPy's OpenBLAS limited to ``n`` threads (restored
    afterwards).  Yields the count in force, or None where it cannot be set."""
    api = _openblas()
    if api is None or n is None:
        yield None
        return
    get, set_ = api
    before = get()
    set_(int(n))
    try:
        yield get()
    finally:
        set_(before)


def cpu_model():
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh
                        if ln.startswith("model name")), cpu)
    return cpu


def _blas_family(name):
    """'OpenBLAS', 'MKL' or None: the library family of a BLAS build name
    such as 'scipy-openblas'."""
    name = str(name or "").lower()
    return "OpenBLAS" if "openblas" in name else "MKL" if "mkl" in name else None


def machine_info(device="cpu"):
    """What the timings ran on: CPU model, cores, each library's BLAS and its
    threads ('numpy_blas', 'torch_blas': 'OpenBLAS', 'MKL' or None), versions, thread variables and (for CUDA) the GPU.  A flat dict."""
    import torch
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    mkl = torch.backends.mkl.is_available()
    info = {"cpu": cpu_model(), "logical_cores": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)),
            "numpy": f"{np.__version__} ({blas.get('name')} {blas.get('version')})",
            "numpy_blas": _blas_family(blas.get("name")), "torch_blas": "MKL" if mkl else None,
            "numpy_blas_threads": _openblas() and _openblas()[0](),
            "torch": f"{torch.__version__} ({'built with MKL' if mkl else 'no MKL'})",
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "device": str(device)}
    info.update({v: os.environ[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                            "MKL_NUM_THREADS") if v in os.environ})
    if str(device).startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info
