"""pix2pix: image-to-image translation with conditional adversarial networks, in Keras 3."""
import contextlib
import os
import sys


@contextlib.contextmanager
def muted_stderr():
    """Mute stderr at the file-descriptor level, where TensorFlow's C++ start-up lines go.

    Those lines (oneDNN, CUDA, CPU features, and those of the first operation, which starts the
    devices) ignore TF_CPP_MIN_LOG_LEVEL in this version; muting them keeps a script's stderr
    for its own one-line messages. Python errors are still raised, and printed once stderr is
    back.
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
    # The first operation starts the devices; but a worker of a multi-machine run (TF_CONFIG
    # set) must create its strategy before that, which pix2pix/distribute.py does, muted too.
    if "TF_CONFIG" not in os.environ:
        keras.ops.zeros(1)
