"""Exporting a trained generator for other runtimes: TensorFlow SavedModel, ONNX and LiteRT.

The export goes through Keras's own `model.export()`, which traces the model's inference call
(Keras's `training=False`). That is the "eval" mode of `translate_images`; the project's
default translation is not: it normalises each image with its own BatchNorm statistics. So
for "deterministic" exports the generator is first rebuilt with each BatchNorm replaced by an
`ImageNorm` layer doing exactly that in inference mode, and each Dropout by nothing.
"""
import os
import warnings

from pix2pix.backend import keras
from pix2pix.errors import Pix2PixError
from pix2pix.inference.modes import EXPORT_MODES
from pix2pix.model.layers import BatchNorm
from pix2pix.storage import atomic_folder, atomic_path, check_folder, check_output


# Our format names -> Keras's; a SavedModel is a folder, the others are one file each.
FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "tflite": "litert"}
EXTENSIONS = {"onnx": ".onnx", "tflite": ".tflite"}


@keras.saving.register_keras_serializable(package="pix2pix")
class ImageNorm(keras.layers.Layer):
    """BatchNorm with each image's own statistics, as `BatchNorm(training=True)` computes them
    for a batch of one image: the mean and variance over height and width, per channel, of
    each image separately, so a batch of N images translates as N single-image calls do."""

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        # BatchNorm's scale and offset, copied here by `inference_model`.
        self.gamma = self.add_weight(shape=(input_shape[-1],), name="gamma", initializer="ones")
        self.beta = self.add_weight(shape=(input_shape[-1],), name="beta", initializer="zeros")

    def call(self, x, training=None, mask=None):  # the graph passes on BatchNorm's arguments
        # Two passes (mean first, then the mean squared deviation), as tf.nn.moments does: the
        # one-pass E[x^2] - E[x]^2 loses digits when a channel's mean is large.
        mean = keras.ops.mean(x, axis=(1, 2), keepdims=True)
        variance = keras.ops.mean(keras.ops.square(x - mean), axis=(1, 2), keepdims=True)
        return (x - mean) * keras.ops.rsqrt(variance + self.epsilon) * self.gamma + self.beta

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def inference_model(g_model, mode="deterministic"):
    """A float32 copy of the generator whose inference call translates as `translate_images`
    does in `mode`. Every layer is rebuilt in float32, so that a model trained in bfloat16
    exports as float32 in and out (ONNX export requires it); the weights are float32 already."""
    if mode not in EXPORT_MODES:
        raise ValueError(f"mode must be one of {', '.join(EXPORT_MODES)}, got {mode!r}")

    def clone(layer):
        if mode == "deterministic" and isinstance(layer, keras.layers.Dropout):
            return keras.layers.Identity(name=layer.name, dtype="float32")  # no dropout
        if mode == "deterministic" and isinstance(layer, BatchNorm):
            # Built from BatchNorm's weights (gamma, beta) and epsilon only, not from how its
            # call works; the moving averages play no part in this mode.
            return ImageNorm(epsilon=layer.epsilon, name=layer.name, dtype="float32")
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(g_model, clone_function=clone)
    for layer in g_model.layers:
        new = copy.get_layer(layer.name)
        if isinstance(new, ImageNorm):
            new.set_weights([keras.ops.convert_to_numpy(layer.gamma),
                             keras.ops.convert_to_numpy(layer.beta)])
        else:
            new.set_weights(layer.get_weights())
    copy(keras.ops.zeros((1, *g_model.input_shape[1:])))  # Keras's ONNX export wants it called
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
    check_export_output(path, fmt, overwrite=True)
    model = inference_model(g_model, mode)
    with (atomic_folder if fmt == "saved_model" else atomic_path)(path) as tmp, \
            warnings.catch_warnings():
        # Keras's patch of tf2onnx for numpy 2 asks numpy for `np.object`, which warns.
        warnings.filterwarnings("ignore", message=".*np.object", category=FutureWarning)
        model.export(tmp, format=FORMATS[fmt], verbose=False)
