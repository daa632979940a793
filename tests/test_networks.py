import keras
import numpy as np
import pytest
import tensorflow as tf

from pix2pix.model.gan import define_gan
from pix2pix.model.networks import define_discriminator, define_generator, set_precision
from pix2pix.model.layers import SMALL_INPUT, BatchNorm, UpConvolution


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def receptive_field(model):
    """Receptive field of one output cell, from the built model's convolution layers."""
    field, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            field += (layer.kernel_size[0] - 1) * jump
            jump *= layer.strides[0]
    return field


def test_generator_matches_the_authors_unet_256():
    g = define_generator((256, 256, 3))
    assert trainable_count(g) == 54_413_955  # the authors' PyTorch unet_256
    assert g.output_shape == (None, 256, 256, 3)
    convs = [l for l in g.layers
             if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    # 8 convolutions down, 8 transposed convolutions up; only the last one has a bias.
    assert sum(isinstance(l, keras.layers.Conv2DTranspose) for l in convs) == 8
    assert [l.use_bias for l in convs] == [False] * 15 + [True]
    assert g.layers[-1].get_config()["activation"] == "tanh"
    # Dropout after decoder layers 2, 3 and 4, where the authors' code puts it.
    dropped = [g.layers[i - 1].name for i, l in enumerate(g.layers)
               if isinstance(l, keras.layers.Dropout)]
    assert dropped == ["decoder_2_norm", "decoder_3_norm", "decoder_4_norm"]


@pytest.mark.parametrize("width", [8, 32])
def test_widths_double_up_to_eight_times(width):
    g = define_generator((256, 256, 3), ngf=width)
    d = define_discriminator((256, 256, 3), ndf=width)
    assert [l.filters for l in g.layers if isinstance(l, keras.layers.Conv2D)] == \
        [width * m for m in (1, 2, 4, 8, 8, 8, 8, 8)]
    assert [l.filters for l in d.layers if isinstance(l, keras.layers.Conv2D)] == \
        [width * m for m in (1, 2, 4, 8)] + [1]


def test_discriminator_is_the_70x70_patchgan():
    d = define_discriminator((256, 256, 3))
    assert trainable_count(d) == 2_768_705
    assert d.output_shape == (None, 30, 30, 1)
    assert receptive_field(d) == 70


@pytest.mark.parametrize("patch, size, out", [(1, 64, 64), (16, 64, 30), (70, 64, 6),
                                              (286, 256, 6)])
def test_patch_sizes_of_the_papers_study(patch, size, out):
    d = define_discriminator((size, size, 3), patch=patch)
    assert d.output_shape == (None, out, out, 1)
    assert receptive_field(d) == patch


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_depth_follows_image_size(size):
    g = define_generator((size, size, 3))
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(g(x, training=True))
    assert y.shape == x.shape
    assert np.abs(y).max() <= 1.0
    # log2(size) halvings reach a 1x1 bottleneck.
    assert min(l.output.shape[1] for l in g.layers if isinstance(l, keras.layers.Conv2D)) == 1


def test_generator_rejects_sizes_that_are_not_powers_of_two():
    with pytest.raises(ValueError, match="power-of-two"):
        define_generator((48, 48, 3))


def test_weights_start_from_normal_0_002():
    g = define_generator((64, 64, 3))
    kernels = np.concatenate([l.kernel.numpy().ravel() for l in g.layers
                              if isinstance(l, (keras.layers.Conv2D,
                                                keras.layers.Conv2DTranspose))])
    assert abs(kernels.mean()) < 1e-3
    assert 0.019 < kernels.std() < 0.021


def test_frozen_batchnorm_still_uses_batch_statistics():
    layer = BatchNorm()
    x = np.random.default_rng(0).normal(5.0, 3.0, (4, 8, 8, 16)).astype("float32")
    layer(x, training=False)  # build
    layer.trainable = False
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    assert abs(y.mean()) < 1e-3 and abs(y.std() - 1) < 1e-2  # normalized by the batch's stats
    assert np.allclose(layer.moving_mean.numpy(), 0)
    assert np.allclose(layer.moving_variance.numpy(), 1)
    layer.trainable = True
    layer(x, training=True)
    # PyTorch's update: momentum 0.1, and the unbiased variance of the 4 x 8 x 8 values.
    mean, variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2)) * 256 / 255
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * variance, rtol=1e-5)
    # Outside training, the moving averages are used.
    y = keras.ops.convert_to_numpy(layer(x, training=False))
    assert y.mean() > 1


def test_composite_model_outputs():
    g = define_generator((32, 32, 3))
    d = define_discriminator((32, 32, 3))
    gan = define_gan(g, d, lambda_l1=10)
    # source -> G -> D: D's decisions on (source, G(source)), and G(source).
    x = keras.ops.convert_to_tensor(np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)),
                                    "float32")
    decision, generated = gan(x, training=False)
    assert [tuple(o.shape) for o in (decision, generated)] == [(1, 2, 2, 1), (1, 32, 32, 3)]
    np.testing.assert_allclose(generated, g(x, training=False), atol=1e-6)
    np.testing.assert_allclose(decision, d([x, generated], training=False), atol=1e-6)
    assert gan.lambda_l1 == 10
    assert trainable_count(gan) == trainable_count(g) + trainable_count(d)


@pytest.mark.parametrize("height, width, bias", [(1, 1, False), (2, 4, True), (8, 8, False),
                                                 (16, 16, True)])
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_up_convolution_computes_what_keras_transposed_convolution_does(height, width, bias,
                                                                         precision):
    # Up to SMALL_INPUT pixels UpConvolution is a matrix product and an overlap-add; beyond it,
    # Keras's own call. Both must give Keras's values and gradients, in either precision.
    assert (height * width <= SMALL_INPUT) == (height < 16)
    # Seeded, as the other exactness tests are: in bfloat16 the bias gradient, a sum of 2y over
    # every position with y rounded to 8 bits, can cancel down to where one rounding is 2.6% of
    # it for some first weights (seen with the weights that earlier tests left to chance).
    keras.utils.set_random_seed(0)
    set_precision(precision)
    try:
        ours = UpConvolution(5, use_bias=bias)
        keras_own = keras.layers.Conv2DTranspose(5, 4, strides=2, padding="same", use_bias=bias)
    finally:
        set_precision("float32")
    rng = np.random.default_rng(0)
    sources = tf.constant(rng.standard_normal((3, height, width, 6)), tf.float32)
    for layer in (ours, keras_own):
        layer.build(sources.shape)
    ours.set_weights(keras_own.get_weights())
    answers = []
    for layer in (ours, keras_own):
        with tf.GradientTape() as tape:
            tape.watch(sources)
            outputs = layer(sources)
            loss = tf.reduce_sum(tf.cast(outputs, tf.float32) ** 2)
        answers.append([outputs, *tape.gradient(loss, [sources, *layer.trainable_variables])])
    tolerance = 1e-5 if precision == "float32" else 2e-2
    assert answers[0][0].shape == (3, 2 * height, 2 * width, 5)
    for a, b in zip(*answers):
        a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
        np.testing.assert_allclose(a, b, atol=tolerance * np.abs(b).max())


def test_up_convolution_is_only_the_unets_layer():
    with pytest.raises(ValueError, match="4x4 transposed convolution of stride 2"):
        UpConvolution(4, kernel_size=3)
