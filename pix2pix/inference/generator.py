"""Saving, loading and running a trained generator."""
import functools
import json
import logging
import os
import zipfile
import zlib

import h5py

from pix2pix.backend import keras, tf
from pix2pix.data.images import scale_images, unscale_images
from pix2pix.errors import Pix2PixError
from pix2pix.inference.modes import MODES
from pix2pix.model.layers import AlwaysDropout, BatchNorm, ImageNorm, UpConvolution
from pix2pix.storage import atomic_path


MODEL_EXTENSIONS = (".h5", ".keras")  # H5, the default, and Keras 3's own format (a zip)
H5_ALSO = ".hdf5"  # H5's other name, which Keras reads and writes as .h5 (Keras 2's examples)
CONFIG_MEMBER = "pix2pix_config.json"  # the configuration's member in a .keras zip


def model_format(path):
    """The extension of a model file, one of MODEL_EXTENSIONS (.hdf5 is .h5); any other is
    refused."""
    extension = os.path.splitext(path)[1]  # as Keras reads it: .H5 is not .h5
    extension = ".h5" if extension == H5_ALSO else extension
    if extension not in MODEL_EXTENSIONS:
        raise Pix2PixError(f"{path}: unsupported model file type; use one of "
                           f"{', '.join(MODEL_EXTENSIONS)}")
    return extension


def save_generator(g_model, path, config):
    """Save the generator as H5 or, for a path ending in .keras, in Keras 3's format, atomically,
    with its training configuration in the file.

    `config` (image size, direction, dataset, step, ...) is stored as JSON, an attribute of the
    H5 file or a member of the .keras zip, so the tools that load the model later need no flags
    to match how it was trained.
    """
    keras_zip = model_format(path) == ".keras"
    with atomic_path(path) as tmp:
        if keras_zip:
            g_model.save(tmp)
            with zipfile.ZipFile(tmp, "a") as archive:
                archive.writestr(CONFIG_MEMBER, json.dumps(config))
        else:
            save_h5(g_model, tmp)
            with h5py.File(tmp, "a") as f:
                f.attrs["pix2pix_config"] = json.dumps(config)


def save_h5(g_model, path):
    """`g_model.save` to an H5 `path`, without Keras's warning that H5 is its legacy format."""
    absl_log = logging.getLogger("absl")  # it is our promised format
    level = absl_log.level
    absl_log.setLevel(logging.ERROR)
    try:
        g_model.save(path)
    finally:
        absl_log.setLevel(level)


def load_generator(path):
    """Load a generator saved by `save_generator`: returns (model, config)."""
    if not os.path.isfile(path):
        raise Pix2PixError(f"{path}: no such model file")
    read_config = keras_zip_config if model_format(path) == ".keras" else h5_config
    if not os.access(path, os.R_OK):
        raise Pix2PixError(f"{path}: cannot be read (permission denied)")
    try:
        config = json.loads(read_config(path))
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise Pix2PixError(f"{path}: its pix2pix configuration (size, direction) is damaged")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:
        raise Pix2PixError(f"{path}: cannot load the model ({e})") from None
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 4 or model.output_shape[:3] != shape[:3]:
        raise Pix2PixError(f"{path}: not a pix2pix generator (inputs {shape}, outputs "
                           f"{model.output_shape}); was a discriminator given?")
    return with_up_convolutions(model), config


def with_up_convolutions(model):
    """`model` with each plain Keras Conv2DTranspose that an UpConvolution computes (a U-Net
    saved before the decoder had them, 2026-12-04) replaced by one, weights copied: the same
    function, translated faster."""
    plain = [layer for layer in model.layers if type(layer) is keras.layers.Conv2DTranspose
             and UpConvolution.computes(layer)]
    if not plain:
        return model
    upgraded = keras.models.clone_model(model, clone_function=lambda layer: UpConvolution
                                        .from_config(layer.get_config()) if layer in plain
                                        else layer)  # the other layers shared, weights and all
    for layer in plain:
        upgraded.get_layer(layer.name).set_weights(layer.get_weights())
    return upgraded


def h5_config(path):
    """The pix2pix configuration (JSON) of the H5 model file at `path`, "{}" if it has none."""
    try:
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise Pix2PixError(f"{path}: not a Keras model (no model in this H5 file)")
            return f.attrs.get("pix2pix_config", "{}")
    except OSError:
        raise Pix2PixError(f"{path}: not an H5 model file") from None


def keras_zip_config(path):
    """The pix2pix configuration (JSON) of the .keras model file at `path`, "{}" if it has none."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
            if "config.json" not in members:
                raise Pix2PixError(f"{path}: not a Keras model (no model in this zip file)")
            return archive.read(CONFIG_MEMBER) if CONFIG_MEMBER in members else "{}"
    except (zipfile.BadZipFile, zlib.error) as e:
        raise Pix2PixError(f"{path}: not a .keras model file, or a damaged one ({e})") from None


def check_fits(g_model, image_shape, source):
    """Refuse images of another size than the model's, with one line naming where they came from."""
    if tuple(image_shape) != g_model.input_shape[1:]:
        height, width, channels = g_model.input_shape[1:]
        raise Pix2PixError(f"{source}: its {image_shape[0]}x{image_shape[1]}x{image_shape[2]} "
                           f"images do not fit the model, which translates {height}x{width} "
                           f"images of {channels} channels")


def inference_model(g_model, mode):
    """G as a Keras model whose inference call (training=False) translates in `mode` (see
    `translate_images`), for any batch size. It is a new graph through G's own layers, so it
    shares their weights as they train on, and their precision, but for the layers that Keras's
    inference call would run otherwise than the mode says: in the paper's two modes each
    BatchNorm gives way to an `ImageNorm` of it (each image's own statistics, the moving averages
    unused), and in "paper" each Dropout to an `AlwaysDropout` of the same rate."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")

    def layer_for_mode(layer):
        if isinstance(layer, BatchNorm) and mode != "eval":
            return ImageNorm(layer)
        if isinstance(layer, keras.layers.Dropout) and mode == "paper":
            return AlwaysDropout.from_config(layer.get_config())
        return layer

    return keras.models.clone_model(g_model, clone_function=layer_for_mode)


@functools.cache
def compiled_model(g_model, mode):
    """`inference_model` as one TensorFlow graph, traced once for any batch size."""
    model = inference_model(g_model, mode)
    generate = tf.function(lambda images: model(images, training=False))
    return generate.get_concrete_function(
        tf.TensorSpec((None, *g_model.input_shape[1:]), tf.float32))


def translate_images(g_model, sources, mode="paper"):
    """Translate float images in [-1, 1], a whole batch in one call of `inference_model`; no
    mode changes the model's weights or BatchNorm's moving averages.

    - "paper" (the default), as the paper does at test time: dropout on and BatchNorm with each
      image's own statistics, rather than the moving averages that `predict()` would use: after
      batch-1 training those averages describe no single image well. Two calls give different
      images.
    - "deterministic": the same without dropout, so a call always gives the same images, and a
      batch of N images the same as N single images.
    - "eval": Keras's inference mode, BatchNorm's moving averages and no dropout.
    """
    return compiled_model(g_model, mode)(tf.constant(sources, tf.float32)).numpy()


def translate_pixels(g_model, images, mode="paper", max_value=None):
    """`translate_images` for uint8 or uint16 images, the translations of the same type and
    scale (`max_value`, by default the type's largest value, maps to 1)."""
    generated = translate_images(g_model, scale_images(images, max_value), mode)
    return unscale_images(generated, images.dtype, max_value)
