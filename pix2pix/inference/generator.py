"""Saving, loading and running a trained generator."""
import functools
import json
import logging
import os

import h5py
import numpy as np

from pix2pix.backend import keras, tf
from pix2pix.data.images import scale_images, unscale_images
from pix2pix.errors import Pix2PixError
from pix2pix.inference.modes import MODES
from pix2pix.model.layers import BatchNorm  # noqa: F401  (registers the layer for loading)
from pix2pix.storage import atomic_path


def save_generator(g_model, path, config):
    """Save the generator as H5, atomically, with its training configuration in the file.

    `config` (image size, direction, dataset, step, ...) is stored as a JSON attribute, so the
    tools that load the model later need no flags to match how it was trained.
    """
    with atomic_path(path) as tmp:
        absl_log = logging.getLogger("absl")  # Keras calls H5 "legacy"; it is our promised format
        level = absl_log.level
        absl_log.setLevel(logging.ERROR)
        try:
            g_model.save(tmp)
        finally:
            absl_log.setLevel(level)
        with h5py.File(tmp, "a") as f:
            f.attrs["pix2pix_config"] = json.dumps(config)


def load_generator(path):
    """Load a generator saved by `save_generator`: returns (model, config)."""
    if not os.path.isfile(path):
        raise Pix2PixError(f"{path}: no such model file")
    try:
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise Pix2PixError(f"{path}: not a Keras model (no model in this H5 file)")
            config = json.loads(f.attrs.get("pix2pix_config", "{}"))
    except PermissionError:
        raise Pix2PixError(f"{path}: cannot be read (permission denied)") from None
    except OSError:
        raise Pix2PixError(f"{path}: not an H5 model file") from None
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise Pix2PixError(f"{path}: its pix2pix configuration (size, direction) is damaged")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:
        raise Pix2PixError(f"{path}: cannot load the model ({e})") from None
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 4 or model.output_shape != shape:
        raise Pix2PixError(f"{path}: not a pix2pix generator (inputs {shape}, outputs "
                           f"{model.output_shape}); was a discriminator given?")
    return model, config


def check_fits(g_model, image_shape, source):
    """Refuse images of another size than the model's, with one line naming where they came from."""
    if tuple(image_shape) != g_model.input_shape[1:]:
        size = g_model.input_shape[1]
        raise Pix2PixError(f"{source}: its {image_shape[0]}x{image_shape[1]} images do not fit "
                           f"the model, which translates {size}x{size} images")


@functools.cache
def compiled_generator(g_model, mode):
    """G as one compiled TensorFlow graph that runs in `mode` (see `translate_images`).

    A traced graph keeps what it saw while it was traced: G frozen (so its BatchNorm layers
    normalize with the batch's statistics and leave the moving averages alone) and, for
    "deterministic", dropout's rate at 0 (Keras's Dropout then passes its input through).
    The model is as it was before once the trace is done.
    """
    dropouts = [layer for layer in g_model.layers if isinstance(layer, keras.layers.Dropout)]
    trainable, rates = g_model.trainable, [layer.rate for layer in dropouts]
    generate = tf.function(lambda images: g_model(images, training=mode != "eval"))
    g_model.trainable = False
    if mode == "deterministic":
        for layer in dropouts:
            layer.rate = 0.0
    try:
        return generate.get_concrete_function(
            tf.TensorSpec((None, *g_model.input_shape[1:]), tf.float32))
    finally:
        g_model.trainable = trainable
        for layer, rate in zip(dropouts, rates):
            layer.rate = rate


def translate_images(g_model, sources, mode="paper"):
    """Translate float images in [-1, 1]; no mode changes the model's weights.

    - "paper" (the default), as the paper does at test time: dropout on and BatchNorm's
      statistics of each image, rather than the moving averages that `predict()` would use:
      after batch-1 training those averages describe no single image well. So each image goes
      through alone. Two calls give different images.
    - "deterministic": the same without dropout, so a call always gives the same images.
    - "eval": Keras's inference mode, BatchNorm's moving averages and no dropout, a whole batch
      at once.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    generate = compiled_generator(g_model, mode)
    sources = tf.constant(sources, tf.float32)
    if mode == "eval":
        return generate(sources).numpy()
    return np.concatenate([generate(sources[i:i + 1]).numpy() for i in range(len(sources))])


def translate_uint8(g_model, images, mode="paper"):
    """`translate_images` for uint8 images, as datasets and image files hold them."""
    return unscale_images(translate_images(g_model, scale_images(images), mode))
