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
with muted_stderr():
    import keras
    import tensorflow as tf


def start_devices():
    """Start TensorFlow's devices, muted (the first operation starts them). A worker of a
    multi-machine run must create its strategy first instead (pix2pix/training/distribute.py)."""
    with muted_stderr():
        keras.ops.zeros(1)


__all__ = ["keras", "tf", "muted_stderr", "start_devices"]
