"""The two networks of pix2pix: the U-Net generator and the PatchGAN discriminator, with the
authors' other options (ResNet generators, instance and no normalization).

Architectures follow the paper's appendix (Isola et al. 2017, section 6.1.1) as the authors'
code builds them: 4x4 convolutions with stride 2, weights drawn from N(0, 0.02), BatchNorm with
the PyTorch defaults (epsilon 1e-5, momentum 0.1, i.e. Keras momentum 0.9), and no bias in a
convolution that BatchNorm follows (BatchNorm's offset makes it redundant). Given the weights of
the authors' PyTorch networks (pix2pix/authors/convert.py), both compute the same functions: the
tests check their outputs against PyTorch's to 1e-5.
"""
import math

from pix2pix.backend import keras, tf
from pix2pix.model.layers import DROPOUT, UpConvolution, has_bias, init, normalization
from pix2pix.model.resnet import BLOCKS, define_resnet_generator


PRECISIONS = ("float32", "bfloat16", "float16")


def set_precision(precision):
    """Build the networks that follow in "float32" (the paper's), "bfloat16" or "float16".

    The last two are Keras's mixed precision: convolutions compute in 16 bits while the weights,
    BatchNorm and the two networks' outputs stay float32 (every output layer asks for float32).
    On a CPU with bfloat16 instructions (AVX512_BF16) bfloat16 trains about 1.6 times faster;
    CPUs without them must emulate it, which can be slower than float32. float16 is for NVIDIA
    GPUs older than Ampere: its small range needs the losses scaled (`define_gan` does it).
    float32 is float32 on a GPU too: TensorFloat-32, which Ampere and newer GPUs use for
    float32 products by default (10-bit mantissas), is off.
    """
    keras.mixed_precision.set_global_policy(
        "float32" if precision == "float32" else f"mixed_{precision}")
    tf.config.experimental.enable_tensor_float_32_execution(precision != "float32")


PATCH_LAYERS = {1: 0, 16: 1, 70: 3, 286: 5}  # receptive field -> number of stride-2 layers


def define_discriminator(image_shape=(256, 256, 3), ndf=64, patch=70, norm="batch",
                         target_channels=None, conditional=True):
    """PatchGAN: judges each patch of a (source, target) pair real or fake.

    The default is the paper's 70x70 PatchGAN, C64-C128-C256-C512 (ndf = 64): three 4x4 stride-2
    layers and one of stride 1, then a 1-channel convolution. A 256x256 pair gives a 30x30 map
    of decisions, each seeing a 70x70 patch. They are logits: the loss applies the sigmoid, as
    the authors' code does (BCEWithLogitsLoss), which is exact where a sigmoid's output would
    round to 0 or 1. `patch` picks the other discriminators of the paper's study: 1 (PixelGAN,
    1x1 convolutions), 16 and 286 (one and five stride-2 layers). `image_shape` is the source's;
    the target has `target_channels` (default the same). An unconditional D (the paper's "GAN"
    rows) sees the target alone; it is still called with [source, target], and ignores the
    source.

    Every 4x4 layer is padded by one pixel explicitly, as the authors' `padding=1`. Keras's
    "same" padding equals that only at stride 2 (one pixel each side); at stride 1 it pads 1
    before and 2 after, and the map of decisions would be a pixel larger.
    """
    height, width, _ = image_shape
    source = keras.Input(shape=image_shape, name="source")
    target = keras.Input(shape=(height, width, target_channels or image_shape[2]), name="target")
    if conditional:
        d = keras.layers.Concatenate(name="pair")([source, target])  # the source first
    else:
        d = target
    bias = has_bias(norm)
    if patch == 1:
        d = keras.layers.Conv2D(ndf, 1, kernel_initializer=init(), name="conv_1")(d)
        d = keras.layers.LeakyReLU(0.2, name="conv_1_relu")(d)
        d = keras.layers.Conv2D(ndf * 2, 1, use_bias=bias, kernel_initializer=init(),
                                name="conv_2")(d)
        d = normalization(norm, "conv_2_norm")(d)
        d = keras.layers.LeakyReLU(0.2, name="conv_2_relu")(d)
        d = keras.layers.Conv2D(1, 1, use_bias=bias, kernel_initializer=init(), dtype="float32",
                                name="patch")(d)
    else:
        n_layers = PATCH_LAYERS[patch]
        for i in range(1, n_layers + 2):
            first, last = i == 1, i == n_layers + 1  # the last of these has stride 1
            d = keras.layers.ZeroPadding2D(1, name=f"conv_{i}_pad")(d)
            # The first layer, which no normalization follows, has its bias whatever the norm.
            d = keras.layers.Conv2D(ndf * min(2 ** (i - 1), 8), 4, strides=1 if last else 2,
                                    use_bias=first or bias, kernel_initializer=init(),
                                    name=f"conv_{i}")(d)
            if not first:
                d = normalization(norm, f"conv_{i}_norm")(d)
            d = keras.layers.LeakyReLU(0.2, name=f"conv_{i}_relu")(d)
        d = keras.layers.ZeroPadding2D(1, name="patch_pad")(d)
        d = keras.layers.Conv2D(1, 4, kernel_initializer=init(), dtype="float32", name="patch")(d)
    return keras.Model([source, target], d, name="discriminator")


GENERATORS = ("unet", "resnet_9blocks", "resnet_6blocks", "encoder_decoder")


def define_generator(image_shape=(256, 256, 3), ngf=64, netG="unet", norm="batch",
                     dropout=True, out_channels=None):
    """The generator `netG`: the paper's U-Net (below), the authors' ResNet generators
    (pix2pix/model/resnet.py), or the U-Net without its skip connections, the encoder-decoder
    of the paper's generator study. It translates `image_shape` images into images of
    `out_channels` channels (default the same)."""
    if netG in BLOCKS:
        return define_resnet_generator(image_shape, ngf, BLOCKS[netG], norm, dropout,
                                       out_channels)
    if netG not in ("unet", "encoder_decoder"):
        raise ValueError(f"netG must be one of {', '.join(GENERATORS)}, got {netG!r}")
    return define_unet(image_shape, ngf, norm, dropout, out_channels, skips=netG == "unet")


def define_unet(image_shape, ngf=64, norm="batch", dropout=True, out_channels=None, skips=True):
    """U-Net: an encoder-decoder whose mirrored layers are joined by skip connections.

    As the authors build it (ngf = 64): encoder C64-C128-C256-C512-C512-C512-C512-C512 at
    256x256, halving the image log2(size) times down to 1x1; the decoder mirrors it. With
    BatchNorm only the last layer has a bias (BatchNorm's offset serves the rest). Three
    details of their code that a reader would not guess, each checked against their networks'
    outputs by the tests:

    - Their encoder's LeakyReLU runs in place (`inplace=True`) on the tensor that the skip
      connection also holds, so what a skip carries to the decoder is the activated value.
    - Every decoder layer begins with a plain ReLU over all it receives: the skip, concatenated
      first, and the layer below's output.
    - Dropout 0.5 follows the decoder layers 2 to log2(size) - 4 (2, 3 and 4 at 256x256; none
      at 32x32): their `num_downs - 5` blocks just outside the innermost one.

    Keras's "same" padding equals their `padding=1` here because every layer has stride 2 (one
    pixel each side for a 4x4 kernel); the discriminator, which has a stride-1 layer, pads
    explicitly.
    """
    size = image_shape[0]
    depth = int(math.log2(size))
    if image_shape[0] != image_shape[1] or 2 ** depth != size or depth < 5:
        raise ValueError(f"the U-Net needs square images of a power-of-two size >= 32, "
                         f"got {image_shape[0]}x{image_shape[1]}")
    widths = [ngf * min(2 ** i, 8) for i in range(depth)]  # 64 128 256 512 512 ...
    bias = has_bias(norm)
    source = keras.Input(shape=image_shape, name="source")
    x, encoded = source, []
    for i, filters in enumerate(widths, start=1):
        outermost, innermost = i == 1, i == depth
        if not outermost:
            x = keras.layers.LeakyReLU(0.2, name=f"encoder_{i}_relu")(x)
            encoded.append(x)  # the activated value, as their in-place LeakyReLU leaves it
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=bias,
                                kernel_initializer=init(), name=f"encoder_{i}")(x)
        normalize = not (outermost or innermost)  # the innermost is 1x1: a value has no spread
        if normalize:
            x = normalization(norm, f"encoder_{i}_norm")(x)
    for i, filters in enumerate(reversed(widths[:-1]), start=1):
        x = keras.layers.ReLU(name=f"decoder_{i}_relu")(x)
        x = UpConvolution(filters, use_bias=bias, kernel_initializer=init(),
                          name=f"decoder_{i}")(x)
        x = normalization(norm, f"decoder_{i}_norm")(x)
        if dropout and 2 <= i <= depth - 4:
            x = keras.layers.Dropout(DROPOUT, name=f"decoder_{i}_dropout")(x)
        skip = encoded.pop()
        if skips:
            x = keras.layers.Concatenate(name=f"decoder_{i}_skip")([skip, x])
    x = keras.layers.ReLU(name=f"decoder_{depth}_relu")(x)
    x = UpConvolution(out_channels or image_shape[2], kernel_initializer=init(),
                      name=f"decoder_{depth}")(x)
    generated = keras.layers.Activation("tanh", dtype="float32", name="generated")(x)
    return keras.Model(source, generated, name="generator")
