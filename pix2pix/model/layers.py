"""The building blocks of the networks, as the authors' code computes them: the weights'
initialization, reflection padding, and the normalizations of their --norm: batch, instance, or
none.

- "batch": BatchNorm as PyTorch computes it (below), the paper's choice.
- "instance": each image normalized by its own mean and variance per channel, with no scale or
  offset and no running statistics (their InstanceNorm2d(affine=False, track_running_stats=False),
  Keras's GroupNormalization with one group per channel): the same in training and translation.
  What their FAQ recommends for several GPUs, and what CycleGAN's generators use.
- "none": nothing.

`UpConvolution` is the U-Net decoder's transposed convolution, computed as a matrix product
where that is faster. `ImageNorm` and `AlwaysDropout` stand in for BatchNorm and Dropout where
the paper's modes of translation differ from Keras's inference call
(pix2pix/inference/generator.py, `inference_model`).
"""
from pix2pix.backend import keras, tf


NORMS = ("batch", "instance", "none")
DROPOUT = 0.5  # the generator's only noise: the rate of its dropout layers


def init():
    """Every convolution's initial weights: N(0, 0.02), as the paper's appendix says."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


@keras.saving.register_keras_serializable(package="pix2pix")
class ReflectionPad(keras.layers.Layer):
    """Pad height and width by `pad` pixels, mirrored at the border (PyTorch's ReflectionPad2d)."""

    def __init__(self, pad, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad

    def call(self, x):
        p = self.pad
        return keras.ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


@keras.saving.register_keras_serializable(package="pix2pix")
class BatchNorm(keras.layers.BatchNormalization):
    """BatchNormalization as the authors' code (PyTorch) computes it.

    - `training=True` always normalizes with the batch's own statistics, frozen or not. Keras's
      layer switches to its moving averages as soon as it is frozen; the paper's generator
      translates with each image's statistics, and a frozen network must still compute so.
    - The moving averages are updated only while the layer is trainable, and the moving variance
      takes the unbiased variance of the batch (times n / (n - 1)), as PyTorch's does.
    - Under tf.distribute (pix2pix/training/distribute.py) the statistics are those of the
      whole batch, pooled across the replicas, as `synchronized=True` (PyTorch's SyncBatchNorm)
      does.
    """

    def __init__(self, momentum=0.9, epsilon=1e-5, **kwargs):
        super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if not training:
            return super().call(inputs, training=False)
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context else 1
        if replicas == 1:
            # TensorFlow's fused kernel: statistics and normalization in one op and its gradient
            # in another, in float32 inside even for 16-bit inputs. The dozen separate ops below
            # cost 4% of a 256x256 step in float32 and 10% in bfloat16 (bench/README.md,
            # "2026-12-04"). Its variance output is the unbiased one, what the moving variance
            # takes; the mean and variance it is given are unused in training (zeros).
            outputs, mean, unbiased, *_ = tf.raw_ops.FusedBatchNormV3(
                x=inputs, scale=self.gamma.value, offset=self.beta.value,
                mean=tf.zeros_like(self.moving_mean.value),
                variance=tf.zeros_like(self.moving_variance.value), epsilon=self.epsilon,
                is_training=True, data_format="NHWC")
        else:
            # Under tf.distribute the batch is split across replicas: pool their statistics,
            # in float32 even under mixed precision, as Keras's own layer computes them.
            x = keras.ops.cast(inputs, "float32")
            mean, variance = keras.ops.moments(x, axes=[0, 1, 2], synchronized=True)
            n = keras.ops.cast(keras.ops.prod(keras.ops.shape(x)[:-1]) * replicas, "float32")
            unbiased = variance * n / keras.ops.maximum(n - 1.0, 1.0)
            outputs = keras.ops.cast(keras.ops.batch_normalization(
                x, mean, variance, axis=-1, offset=self.beta, scale=self.gamma,
                epsilon=self.epsilon), self.compute_dtype)
        if self.trainable:
            momentum = self.momentum
            self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
            self.moving_variance.assign(
                self.moving_variance * momentum + unbiased * (1.0 - momentum))
        return outputs


SMALL_INPUT = 64  # pixels: up to 8x8, UpConvolution computes as a matrix product


@keras.saving.register_keras_serializable(package="pix2pix")
class UpConvolution(keras.layers.Conv2DTranspose):
    """The U-Net decoder's layer: a 4x4 transposed convolution of stride 2 with "same" padding,
    the authors' ConvTranspose2d(kernel_size=4, stride=2, padding=1).

    On inputs of up to 8x8 pixels (SMALL_INPUT: the decoder's first four layers) it computes the
    same sums as one matrix product and an overlap-add: TensorFlow's CPU kernel for a transposed
    convolution is slow there (4x4x1024 to 8x8x512: 20 ms against 3 for the product), and those
    layers took most of a 128x128 translation (bench/README.md, "2026-12-04").
    Larger inputs take Keras's own `call`.
    """

    GEOMETRY = {"kernel_size": (4, 4), "strides": (2, 2), "padding": "same",
                "dilation_rate": (1, 1), "output_padding": None, "data_format": "channels_last"}

    def __init__(self, filters, kernel_size=4, strides=2, padding="same", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, **kwargs)
        if not self.computes(self):
            raise ValueError("UpConvolution is a 4x4 transposed convolution of stride 2, "
                             "'same' padding, channels last")

    @classmethod
    def computes(cls, layer):
        """Whether `layer`, a transposed convolution, has this layer's geometry."""
        return all(getattr(layer, name) == value for name, value in cls.GEOMETRY.items())

    def call(self, inputs):
        height, width, channels = inputs.shape[1:]
        if height is None or width is None or height * width > SMALL_INPUT:
            return super().call(inputs)
        ops, filters = keras.ops, self.filters
        # Each input pixel's 4x4 patch of contributions, (ky, kx, filter) per pixel. The kernel,
        # (ky, kx, filter, channel), is the product's left side as it lies in memory: as the
        # right side TensorFlow's CPU product copies it first, five times slower.
        kernel = ops.reshape(self.kernel, (16 * filters, channels))
        patches = ops.transpose(ops.matmul(kernel, ops.transpose(
            ops.reshape(inputs, (-1, channels)))))
        # Overlap-add: input row i's tap ky lands on output row 2i + ky - 1. With ky = 2a + b that
        # is row 2(i + a) + b - 1: the patches' halves a = 0 and 1 add shifted by one row of
        # pairs. Rows first, then columns; the tensors stay within 5 dimensions (LiteRT's limit),
        # and the halves are unstacked, not sliced: a slice's gradient is a slow kernel here.
        rows = ops.reshape(patches, (-1, height, width, 2, 8 * filters))  # a, (b, kx, filter)
        rows = shifted_sum(*ops.unstack(rows, 2, axis=3), axis=1)
        columns = ops.reshape(rows, (-1, width, 2, 2, 2 * filters))  # b, a, (b, filter)
        columns = shifted_sum(*ops.unstack(columns, 2, axis=3), axis=1)
        # (image, row pair, b, column pair, b, filter) -> (image, row, column, filter), less the
        # border that "same" padding crops.
        outputs = ops.reshape(ops.transpose(columns, (0, 2, 1, 3)),
                              (-1, 2 * height + 2, 2 * width + 2, filters))[:, 1:-1, 1:-1]
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)


def shifted_sum(first, second, axis):
    """first + second, the second one step further along `axis` (the result one step longer)."""
    before = [[0, 0]] * len(first.shape)
    after = [[0, 0]] * len(first.shape)
    before[axis], after[axis] = [1, 0], [0, 1]
    return keras.ops.pad(first, after) + keras.ops.pad(second, before)


class ImageNorm(keras.layers.Layer):
    """`norm` (a BatchNorm) with each image's own statistics, whatever `training` says: the mean
    and variance over height and width, per channel, of each image separately, as
    `norm(x, training=True)` computes them for a batch of one image. So a batch of N images
    translates as N single-image calls do. The scale and offset are `norm`'s own variables,
    shared, not copied; its moving averages play no part."""

    def __init__(self, norm, **kwargs):
        super().__init__(name=norm.name, dtype=norm.dtype_policy, **kwargs)
        self.gamma, self.beta, self.epsilon = norm.gamma, norm.beta, norm.epsilon

    def call(self, x, mask=None):  # called as the graph called BatchNorm: with mask=None
        x = keras.ops.cast(x, "float32")  # as BatchNorm computes, even under mixed precision
        mean, variance = keras.ops.moments(x, axes=[1, 2], keepdims=True)
        # The arithmetic of tf.nn.batch_normalization, which BatchNorm's call runs (its Keras op
        # takes only one mean per channel, not one per image and channel).
        scale = keras.ops.rsqrt(variance + self.epsilon) * self.gamma
        return keras.ops.cast(x * scale + (self.beta - mean * scale), self.compute_dtype)


class AlwaysDropout(keras.layers.Dropout):
    """Dropout that drops in every call, inference too: the paper's noise at test time."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


def has_bias(norm):
    """Whether the convolutions that `norm` follows have a bias, by the authors' rule: only
    before InstanceNorm2d, which has no offset. Their "none" is a plain function that the rule
    does not recognise, so with it the inner convolutions have no bias either."""
    return norm == "instance"


def normalization(norm, name):
    """The layer of `norm`, named `name` (a pass-through for "none")."""
    if norm == "batch":
        return BatchNorm(name=name)
    if norm == "instance":
        return keras.layers.GroupNormalization(groups=-1, center=False, scale=False,
                                               epsilon=1e-5, name=name)
    if norm == "none":
        return keras.layers.Identity(name=name)
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
