"""pix2pix: image-to-image translation with conditional adversarial networks, in Keras 3."""
import os
import sys


def import_keras_quietly():
    """Import Keras (and TensorFlow) with stderr muted at the file-descriptor level.

    TensorFlow's C++ start-up lines (oneDNN, CUDA, CPU features), and those of its first
    operation, ignore TF_CPP_MIN_LOG_LEVEL in this version; muting them keeps a script's stderr
    for its own one-line messages. Python errors of the import itself are still raised, and
    printed once stderr is back.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras
        keras.ops.zeros(1)  # the first operation starts the devices, which logs more lines
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


import_keras_quietly()
