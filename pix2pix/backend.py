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


__all__ = ["keras", "tf", "grow_memory", "muted_stderr", "start_devices"]
