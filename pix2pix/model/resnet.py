"""The ResNet generator of the authors' code (their `ResnetGenerator`, after Johnson et al. 2016),
which pix2pix offers beside the U-Net and CycleGAN uses for all its models.

It downsamples only twice, so it translates any image whose sides are multiples of 4 (a U-Net
needs multiples of 2 ** its depth): c7s1-64, d128, d256, then 6 or 9 residual blocks of two 3x3
convolutions at 256 channels, u128, u64, c7s1-3 and tanh (ngf = 64). Built as their code builds
it, so that given their weights it computes their function (the tests check it to 1e-5):

- the 7x7 and the blocks' 3x3 convolutions pad by reflection, the stride-2 ones by zeros;
- PyTorch's transposed convolution (kernel 3, stride 2, padding 1, output padding 1) places its
  output one pixel up and left of Keras's, so Keras's "valid" one is cropped by a pixel there;
- a convolution has a bias only where instance normalization (which has no offset) or none
  follows it, by their rule (see `has_bias` in pix2pix/model/layers.py).
"""
from pix2pix.backend import keras
from pix2pix.model.layers import DROPOUT, ReflectionPad, has_bias, init, normalization


BLOCKS = {"resnet_9blocks": 9, "resnet_6blocks": 6}


def define_resnet_generator(image_shape=(256, 256, 3), ngf=64, blocks=9, norm="batch",
                            dropout=False, out_channels=None):
    height, width, channels = image_shape
    if height % 4 or width % 4:
        raise ValueError(f"the ResNet generator needs sides that are multiples of 4, got "
                         f"{height}x{width}")
    bias = has_bias(norm)
    source = keras.Input(shape=image_shape, name="source")

    def conv(x, filters, kernel, name, stride=1, use_bias=bias):
        return keras.layers.Conv2D(filters, kernel, strides=stride, use_bias=use_bias,
                                   kernel_initializer=init(), name=name)(x)

    def norm_relu(x, name):
        x = normalization(norm, f"{name}_norm")(x)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    x = ReflectionPad(3, name="first_pad")(source)
    x = norm_relu(conv(x, ngf, 7, "first"), "first")
    for i, filters in enumerate((ngf * 2, ngf * 4), start=1):
        x = keras.layers.ZeroPadding2D(1, name=f"down_{i}_pad")(x)
        x = norm_relu(conv(x, filters, 3, f"down_{i}", stride=2), f"down_{i}")
    for i in range(1, blocks + 1):
        name = f"block_{i}"
        y = ReflectionPad(1, name=f"{name}_pad_a")(x)
        y = norm_relu(conv(y, ngf * 4, 3, f"{name}_a"), f"{name}_a")
        if dropout:
            y = keras.layers.Dropout(DROPOUT, name=f"{name}_dropout")(y)
        y = ReflectionPad(1, name=f"{name}_pad_b")(y)
        y = normalization(norm, f"{name}_b_norm")(conv(y, ngf * 4, 3, f"{name}_b"))
        x = keras.layers.Add(name=name)([x, y])
    for i, filters in enumerate((ngf * 2, ngf), start=1):
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, use_bias=bias,
                                         kernel_initializer=init(), name=f"up_{i}")(x)
        x = keras.layers.Cropping2D(((1, 0), (1, 0)), name=f"up_{i}_crop")(x)
        x = norm_relu(x, f"up_{i}")
    x = ReflectionPad(3, name="last_pad")(x)
    x = conv(x, out_channels or channels, 7, "last", use_bias=True)
    generated = keras.layers.Activation("tanh", dtype="float32", name="generated")(x)
    return keras.Model(source, generated, name="generator")
