"""Keras and TensorFlow, imported without their start-up lines; the devices, started on demand.

Every module that computes with Keras takes it from here (`from pix2pix.backend import keras`),
so that TensorFlow's C++ start-up lines (oneDNN, CUDA, CPU features) never reach a script's
stderr, which is kept for its own one-line messages. Importing TensorFlow starts no device: the
first operation does, and `start_devices` runs it muted. Modules that need no TensorFlow (the
data, the authors' file reader, the command-line helpers) never import this one.
"""
import contextlib
import os
import sys


@contextlib.contextmanager
def muted_stderr():
    """Mute stderr at the file-descriptor level, where TensorFlow's C++ lines go.

    Those lines ignore TF_CPP_MIN_LOG_LEVEL in this version. Python errors are still raised,
    and printed once stderr is back.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def only_python_stderr():
    """Mute what TensorFlow's C++ side writes to stderr for a whole run, while Python's writes
    (the progress bar, the scripts' lines) still show. TensorFlow logs from its own threads at
    any moment (a graph it could not optimize, a worker of the cluster lost), not only in the
    calls muted_stderr wraps: file descriptor 2 goes nowhere, and sys.stderr, when it is that
    descriptor, writes to a copy of it."""
    python_stderr = sys.stderr
    try:
        on_descriptor_2 = python_stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a stream of Python's own (a test's)
        on_descriptor_2 = False
    python_stderr.flush()
    copy = os.fdopen(os.dup(2), "w", buffering=1) if on_descriptor_2 else python_stderr
    sys.stderr = copy
    try:
        with muted_stderr():
            yield
    finally:
        sys.stderr = python_stderr
        if copy is not python_stderr:
            copy.close()


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# On GPUs newer than its wheel's native kernels (H100, H200 with TensorFlow 2.21) CUDA compiles
# them from PTX at the first start, for minutes; its cache keeps them for the next start if it
# is large enough (the default holds few of them): 4 GiB, CUDA's maximum.
os.environ.setdefault("CUDA_CACHE_MAXSIZE", str(4 * 2 ** 30))
with muted_stderr():
    import keras
    import tensorflow as tf


NVIDIA_DRIVER = "/proc/driver/nvidia/version"  # present where an NVIDIA driver is loaded


def grow_memory():
    """Let each GPU's memory grow as needed; returns the GPUs. It must come before they start:
    once started (by a strategy, or an earlier operation of this process) they keep theirs."""
    with muted_stderr():  # looking for GPUs loads CUDA, which logs where there is none
        gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # started already
            pass
    return gpus


def start_devices():
    """Start TensorFlow's devices, muted (the first operation starts them), and say where the
    work runs: "the CPU", or the GPU TensorFlow computes on. Each GPU's memory grows as needed,
    instead of TensorFlow taking all of every visible one. Where an NVIDIA driver is loaded but
    TensorFlow sees no GPU (the CPU-only package, or CUDA libraries missing), one warning line
    says so. A worker of a multi-machine run creates its strategy before this
    (pix2pix/training/distribute.py)."""
    gpus = grow_memory()
    with muted_stderr():
        keras.ops.zeros(1)
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1")
    if not gpus and os.path.exists(NVIDIA_DRIVER) and not hidden:
        print("warning: an NVIDIA driver is loaded, but this TensorFlow sees no GPU: it runs on "
              "the CPU (for the GPU: make demo GPU=1, or pip install -r requirements-gpu.txt)",
              file=sys.stderr)
    if not gpus:
        return "the CPU"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "a GPU")
    more = f", {len(gpus) - 1} more visible" if len(gpus) > 1 else ""
    return f"GPU:0 ({name}{more})"


BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo's names of native bfloat16


def auto_precision(cpu_flags, gpu_capabilities):
    """--precision auto: the precision that runs fastest without changing the results, and why.

    `cpu_flags`: the CPU's feature flags (as /proc/cpuinfo names them); `gpu_capabilities`: the
    compute capability, e.g. (8, 0), of each GPU the run uses (None where unknown), empty on a
    CPU. bfloat16 where the hardware computes it natively (Ampere or newer GPUs, CPUs with
    AVX512_BF16 or AMX); float16, with loss scaling, on older NVIDIA GPUs, which have float16
    units but no bfloat16 ones; float32 elsewhere, where 16 bits would be emulated, and slower.
    On facades and a held-out photo-to-labels set bfloat16 scored as float32 (bench/README.md).
    """
    if gpu_capabilities:
        if None in gpu_capabilities:
            return "float32", "auto: a GPU of unknown compute capability"
        oldest = min(gpu_capabilities)
        capability = ".".join(map(str, oldest))
        if oldest >= (8, 0):
            return "bfloat16", f"auto: a GPU of compute capability {capability} computes bfloat16"
        return "float16", (f"auto: a GPU of compute capability {capability}, older than Ampere, "
                           f"computes float16 but not bfloat16")
    native = [flag for flag in BFLOAT16_CPU_FLAGS if flag in cpu_flags]
    if native:
        return "bfloat16", f"auto: this CPU has bfloat16 instructions ({native[0].upper()})"
    return "float32", "auto: this CPU has no bfloat16 instructions"


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags, from Linux's /proc/cpuinfo (none known elsewhere)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def gpu_capabilities():
    """The compute capability of each GPU TensorFlow sees (None where it does not say)."""
    return [tf.config.experimental.get_device_details(gpu).get("compute_capability")
            for gpu in tf.config.list_physical_devices("GPU")]


__all__ = ["keras", "tf", "auto_precision", "cpu_flags", "gpu_capabilities", "grow_memory",
           "muted_stderr", "start_devices"]
