"""The two networks of pix2pix: the U-Net generator and the PatchGAN discriminator.

Architectures follow the paper's appendix (Isola et al. 2017, section 6.1.1) as the authors'
code builds them: 4x4 convolutions with stride 2, weights drawn from N(0, 0.02), BatchNorm with
the PyTorch defaults (epsilon 1e-5, momentum 0.1, i.e. Keras momentum 0.9), and no bias in a
convolution that BatchNorm follows (BatchNorm's offset makes it redundant). Given the weights of
the authors' PyTorch networks (pix2pix/convert.py), both compute the same functions: the tests
check their outputs against PyTorch's to 1e-5. `ImageNorm` and `AlwaysDropout` stand in for
BatchNorm and Dropout where the paper's modes of translation differ from Keras's inference call
(pix2pix/inference/generator.py, `inference_model`).
"""
import math

from pix2pix.backend import keras, tf


DROPOUT = 0.5  # the generator's only noise: the rate of its dropout layers


def init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


@keras.saving.register_keras_serializable(package="pix2pix")
class BatchNorm(keras.layers.BatchNormalization):
    """BatchNormalization as the authors' code (PyTorch) computes it.

    - `training=True` always normalizes with the batch's own statistics, frozen or not. Keras's
      layer switches to its moving averages as soon as it is frozen; the paper's generator
      translates with each image's statistics, and a frozen network must still compute so.
    - The moving averages are updated only while the layer is trainable, and the moving variance
      takes the unbiased variance of the batch (times n / (n - 1)), as PyTorch's does.
    - Under tf.distribute (pix2pix/distribute.py) the statistics are those of the whole batch,
      pooled across the replicas, as `synchronized=True` (PyTorch's SyncBatchNorm) does.
    """

    def __init__(self, momentum=0.9, epsilon=1e-5, **kwargs):
        super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if not training:
            return super().call(inputs, training=False)
        # In float32 even under mixed precision, as Keras's own layer computes it.
        x = keras.ops.cast(inputs, "float32")
        # Under tf.distribute the batch is split across replicas: pool their statistics.
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context else 1
        mean, variance = keras.ops.moments(x, axes=[0, 1, 2], synchronized=replicas > 1)
        if self.trainable:
            n = keras.ops.cast(keras.ops.prod(keras.ops.shape(x)[:-1]) * replicas, "float32")
            unbiased = variance * n / keras.ops.maximum(n - 1.0, 1.0)
            momentum = self.momentum
            self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
            self.moving_variance.assign(
                self.moving_variance * momentum + unbiased * (1.0 - momentum))
        x = keras.ops.batch_normalization(x, mean, variance, axis=-1, offset=self.beta,
                                          scale=self.gamma, epsilon=self.epsilon)
        return keras.ops.cast(x, self.compute_dtype)


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


PRECISIONS = ("float32", "bfloat16")


def set_precision(precision):
    """Build the networks that follow in "float32" (the paper's) or "bfloat16".

    "bfloat16" is Keras's mixed precision: convolutions compute in bfloat16 while the weights,
    BatchNorm and the two networks' outputs stay float32 (every output layer asks for float32).
    On a CPU with bfloat16 instructions (AVX512_BF16) it trains about 1.6 times faster; CPUs
    without them must emulate bfloat16, which can be slower than float32.
    """
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if precision == "bfloat16" else "float32")


PATCH_LAYERS = {1: 0, 16: 1, 70: 3, 286: 5}  # receptive field -> number of stride-2 layers


def define_discriminator(image_shape=(256, 256, 3), ndf=64, patch=70):
    """PatchGAN: judges each patch of a (source, target) pair real or fake.

    The default is the paper's 70x70 PatchGAN, C64-C128-C256-C512 (ndf = 64): three 4x4 stride-2
    layers and one of stride 1, each padded by one pixel as in the authors' code, then a
    1-channel convolution. A 256x256 pair gives a 30x30 map of decisions, each seeing a 70x70
    patch. They are logits: the loss applies the sigmoid, as the authors' code does
    (BCEWithLogitsLoss), which is exact where a sigmoid's output would round to 0 or 1.
    `patch` picks the other discriminators of the paper's study: 1 (PixelGAN, 1x1
    convolutions), 16 and 286 (one and five stride-2 layers).
    """
    source = keras.Input(shape=image_shape, name="source")
    target = keras.Input(shape=image_shape, name="target")
    d = keras.layers.Concatenate()([source, target])  # 6 channels, the source first
    if patch == 1:
        d = keras.layers.Conv2D(ndf, 1, kernel_initializer=init())(d)
        d = keras.layers.LeakyReLU(0.2)(d)
        d = keras.layers.Conv2D(ndf * 2, 1, use_bias=False, kernel_initializer=init())(d)
        d = BatchNorm()(d)
        d = keras.layers.LeakyReLU(0.2)(d)
        d = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer=init(), dtype="float32",
                          name="patch")(d)
    else:
        n_layers = PATCH_LAYERS[patch]
        for i in range(n_layers + 1):  # the last of these has stride 1
            d = keras.layers.ZeroPadding2D(1)(d)
            d = keras.layers.Conv2D(ndf * min(2 ** i, 8), 4, strides=2 if i < n_layers else 1,
                              use_bias=i == 0, kernel_initializer=init())(d)
            if i > 0:
                d = BatchNorm()(d)
            d = keras.layers.LeakyReLU(0.2)(d)
        d = keras.layers.ZeroPadding2D(1)(d)
        d = keras.layers.Conv2D(1, 4, kernel_initializer=init(), dtype="float32", name="patch")(d)
    return keras.Model([source, target], d, name="discriminator")


def define_generator(image_shape=(256, 256, 3), ngf=64):
    """U-Net: an encoder-decoder whose mirrored layers are joined by skip connections.

    As the authors build it (ngf = 64): encoder C64-C128-C256-C512-C512-C512-C512-C512 at
    256x256, halving the image log2(size) times down to 1x1; the decoder mirrors it. Every
    decoder layer begins with a plain ReLU over all it receives: the encoder's activation from
    the skip connection, concatenated first, and the layer below's output. Dropout 0.5 follows
    the decoder layers 2 to log2(size) - 4 (2, 3 and 4 at 256x256; none at 32x32), where the
    authors' code puts it. Only the last layer has a bias; BatchNorm's offset serves the rest.
    """
    size = image_shape[0]
    depth = int(math.log2(size))
    if image_shape[0] != image_shape[1] or 2 ** depth != size or depth < 5:
        raise ValueError(f"the generator needs square images of a power-of-two size >= 32, "
                         f"got {image_shape[0]}x{image_shape[1]}")
    widths = [ngf * min(2 ** i, 8) for i in range(depth)]  # 64 128 256 512 512 ...
    source = keras.Input(shape=image_shape, name="source")
    x = source
    skips = []
    for i, filters in enumerate(widths, start=1):
        if i > 1:
            x = keras.layers.LeakyReLU(0.2)(x)
            skips.append(x)
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False,
                          kernel_initializer=init(), name=f"encoder_{i}")(x)
        if 1 < i < depth:  # the innermost layer is 1x1: a single value has no spread
            x = BatchNorm(name=f"encoder_{i}_norm")(x)
    for i, filters in enumerate(reversed(widths[:-1]), start=1):
        x = keras.layers.ReLU()(x)
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=init(), name=f"decoder_{i}")(x)
        x = BatchNorm(name=f"decoder_{i}_norm")(x)
        if 2 <= i <= depth - 4:
            x = keras.layers.Dropout(DROPOUT)(x)
        x = keras.layers.Concatenate()([skips.pop(), x])
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2DTranspose(image_shape[2], 4, strides=2, padding="same",
                               kernel_initializer=init(), name=f"decoder_{depth}")(x)
    generated = keras.layers.Activation("tanh", dtype="float32", name="generated")(x)
    return keras.Model(source, generated, name="generator")
