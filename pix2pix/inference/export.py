"""Exporting a trained generator for other runtimes: TensorFlow SavedModel, ONNX and LiteRT.

The export goes through Keras's own `model.export()`, which traces the model's inference call
(Keras's `training=False`). What it writes is the model that `translate_images` runs in the same
mode, `inference_model`, built from a float32 copy of the generator. The paper's mode is not
offered: its dropout would make the exported function random.
"""
import os
import warnings

from pix2pix.backend import keras
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import inference_model
from pix2pix.inference.modes import EXPORT_MODES
from pix2pix.storage import atomic_folder, atomic_path, check_folder, check_output


# Our format names -> Keras's; a SavedModel is a folder, the others are one file each.
FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "tflite": "litert"}
EXTENSIONS = {"onnx": ".onnx", "tflite": ".tflite"}


def float32_copy(g_model):
    """G with every layer rebuilt in float32 and its weights copied, so that a model trained in
    bfloat16 exports as float32 throughout (ONNX export requires it)."""
    copy = keras.models.clone_model(g_model, clone_function=lambda layer: layer.__class__
                                    .from_config({**layer.get_config(), "dtype": "float32"}))
    copy.set_weights(g_model.get_weights())
    return copy


def check_export_output(path, fmt, overwrite=False):
    """Fail early, before any work, if `path` cannot or should not receive a `fmt` export."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt != "saved_model":
        return check_output(path, overwrite, [EXTENSIONS[fmt]])
    if os.path.isfile(path):
        raise Pix2PixError(f"{path}: is a file; a SavedModel is a folder")
    if os.path.isdir(path):
        if not overwrite:
            raise Pix2PixError(f"{path}: already exists; add --overwrite to replace it")
        if os.listdir(path) and not os.path.isfile(os.path.join(path, "saved_model.pb")):
            # --overwrite replaces a SavedModel, never a folder of something else.
            raise Pix2PixError(f"{path}: is a folder that holds no SavedModel; not replacing it")
    check_folder(os.path.dirname(os.path.abspath(path)), path)


def export_generator(g_model, path, fmt="saved_model", mode="deterministic"):
    """Write the generator to `path` in `fmt` (saved_model, onnx, tflite), translating as
    `translate_images` does in `mode`: float32 NHWC images in [-1, 1] in, the same out, any
    batch size. Written atomically: a failed export leaves nothing behind."""
    if mode not in EXPORT_MODES:
        raise ValueError(f"mode must be one of {', '.join(EXPORT_MODES)}, got {mode!r}")
    check_export_output(path, fmt, overwrite=True)
    model = inference_model(float32_copy(g_model), mode)
    model(keras.ops.zeros((1, *g_model.input_shape[1:])))  # Keras's ONNX export wants it called
    with (atomic_folder if fmt == "saved_model" else atomic_path)(path) as tmp, \
            warnings.catch_warnings():
        # Keras's patch of tf2onnx for numpy 2 asks numpy for `np.object`, which warns.
        warnings.filterwarnings("ignore", message=".*np.object", category=FutureWarning)
        model.export(tmp, format=FORMATS[fmt], verbose=False)
