"""The two networks of pix2pix and the composite model that trains the generator.

Architectures follow the paper's appendix (Isola et al. 2017, section 6.1.1) as the authors'
code builds them: 4x4 convolutions with stride 2, weights drawn from N(0, 0.02), BatchNorm with
the PyTorch defaults (epsilon 1e-5, momentum 0.1, i.e. Keras momentum 0.9), and no bias in a
convolution that BatchNorm follows (BatchNorm's offset makes it redundant).
"""
import math

import keras
from keras import layers


def init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


@keras.saving.register_keras_serializable(package="pix2pix")
class BatchNorm(layers.BatchNormalization):
    """BatchNormalization that keeps normalizing with the batch's own statistics when frozen.

    Keras's layer switches to its moving averages as soon as it is not trainable. The paper's code
    does not: a frozen discriminator inside the composite model, and a generator translating
    images, still normalize each batch with its own mean and variance. Here `training=True` always
    means batch statistics; the moving averages are only updated while the layer is trainable.
    """

    def __init__(self, momentum=0.9, epsilon=1e-5, **kwargs):
        super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if training and not self.trainable:
            # In float32 even under mixed precision, as Keras's own layer computes it.
            x = keras.ops.cast(inputs, "float32")
            mean, variance = keras.ops.moments(x, axes=list(range(len(x.shape) - 1)))
            x = keras.ops.batch_normalization(x, mean, variance, axis=-1, offset=self.beta,
                                              scale=self.gamma, epsilon=self.epsilon)
            return keras.ops.cast(x, self.compute_dtype)
        return super().call(inputs, training=training, mask=mask)


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


def define_discriminator(image_shape=(256, 256, 3), patch=70):
    """PatchGAN: classifies each patch of a (source, target) pair as real or fake.

    The default is the paper's 70x70 PatchGAN, C64-C128-C256-C512: three 4x4 stride-2 layers, one
    stride-1 layer and a 1-channel output, each 4x4 convolution padded by one pixel as in the
    authors' code. A 256x256 pair gives a 30x30 map of decisions, each seeing a 70x70 patch.
    `patch` picks the other discriminators of the paper's study: 1 (PixelGAN, 1x1 convolutions),
    16 and 286 (one and five stride-2 layers).
    """
    in_src = keras.Input(shape=image_shape, name="source")
    in_tar = keras.Input(shape=image_shape, name="target")
    d = layers.Concatenate()([in_src, in_tar])
    if patch == 1:
        d = layers.Conv2D(64, 1, kernel_initializer=init())(d)
        d = layers.LeakyReLU(0.2)(d)
        d = layers.Conv2D(128, 1, use_bias=False, kernel_initializer=init())(d)
        d = BatchNorm()(d)
        d = layers.LeakyReLU(0.2)(d)
        d = layers.Conv2D(1, 1, kernel_initializer=init())(d)
    else:
        n_layers = PATCH_LAYERS[patch]
        filters = 64
        for i in range(n_layers):
            d = layers.ZeroPadding2D(1)(d)
            d = layers.Conv2D(filters, 4, strides=2, use_bias=i == 0, kernel_initializer=init())(d)
            if i > 0:
                d = BatchNorm()(d)
            d = layers.LeakyReLU(0.2)(d)
            filters = min(filters * 2, 512)
        d = layers.ZeroPadding2D(1)(d)
        d = layers.Conv2D(filters, 4, use_bias=False, kernel_initializer=init())(d)
        d = BatchNorm()(d)
        d = layers.LeakyReLU(0.2)(d)
        d = layers.ZeroPadding2D(1)(d)
        d = layers.Conv2D(1, 4, kernel_initializer=init())(d)
    patch_out = layers.Activation("sigmoid", dtype="float32", name="patch")(d)
    model = keras.Model([in_src, in_tar], patch_out, name="discriminator")
    # The paper halves D's loss so that D learns more slowly than G.
    model.compile(loss="binary_crossentropy",
                  optimizer=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
                  loss_weights=[0.5])
    return model


def encoder_block(x, filters, batchnorm=True):
    # No bias even on the first layer, which has no BatchNorm: the authors' code builds every
    # encoder convolution this way, and the parameter count matches theirs only so.
    x = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False,
                      kernel_initializer=init())(x)
    if batchnorm:
        x = BatchNorm()(x)
    return layers.LeakyReLU(0.2)(x)


def decoder_block(x, skip, filters, dropout=True):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                               kernel_initializer=init())(x)
    x = BatchNorm()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.Activation("relu")(x)
    return layers.Concatenate()([x, skip])


def define_generator(image_shape=(256, 256, 3)):
    """U-Net: an encoder-decoder whose mirrored layers are joined by skip connections.

    Encoder C64-C128-C256-C512-C512-C512-C512-C512, decoder CD512-CD512-CD512-C512-C256-C128-C64
    at 256x256. The image is halved log2(size) times, down to 1x1; at smaller sizes the
    innermost C512 layers are dropped, at 512 and above one more is added per doubling.
    """
    size = image_shape[0]
    depth = int(math.log2(size))
    if image_shape[0] != image_shape[1] or 2 ** depth != size or depth < 5:
        raise ValueError(f"the generator needs square images of a power-of-two size >= 32, "
                         f"got {image_shape[0]}x{image_shape[1]}")
    encoder_filters = [min(64 * 2 ** i, 512) for i in range(depth)]  # 64 128 256 512 512 ...
    in_image = keras.Input(shape=image_shape, name="source")
    x = in_image
    skips = []
    for i, filters in enumerate(encoder_filters[:-1]):
        x = encoder_block(x, filters, batchnorm=i > 0)
        skips.append(x)
    # Bottleneck: 1x1 spatially, no BatchNorm (a single value per channel has no spread).
    x = layers.Conv2D(encoder_filters[-1], 4, strides=2, padding="same", use_bias=False,
                      kernel_initializer=init())(x)
    x = layers.Activation("relu")(x)
    for i, (filters, skip) in enumerate(zip(reversed(encoder_filters[:-1]), reversed(skips))):
        x = decoder_block(x, skip, filters, dropout=i < 3)
    x = layers.Conv2DTranspose(image_shape[2], 4, strides=2, padding="same",
                               kernel_initializer=init())(x)
    out_image = layers.Activation("tanh", dtype="float32", name="generated")(x)
    return keras.Model(in_image, out_image, name="generator")


def define_gan(g_model, d_model, image_shape):
    """The composite model that trains the generator: source -> G -> frozen D.

    Its two outputs are D's patch decisions on (source, G(source)), trained towards "real" with
    binary cross-entropy, and the generated image itself, trained towards the target with mean
    absolute error weighted 100 (the paper's lambda). D is frozen here, so a composite update
    moves G alone; `train_step` sets D's trainable flag before each update, because Keras 3
    traces a model's train function at its first call with whatever is trainable at that moment.
    """
    d_model.trainable = False
    in_src = keras.Input(shape=image_shape, name="source")
    gen_out = g_model(in_src)
    dis_out = d_model([in_src, gen_out])
    model = keras.Model(in_src, [dis_out, gen_out], name="gan")
    model.compile(loss=["binary_crossentropy", "mae"],
                  optimizer=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
                  loss_weights=[1, 100])
    return model
