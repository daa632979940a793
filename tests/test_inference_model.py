"""One inference model per mode (`inference_model`): its plain inference call computes what G
computes when called as the mode says, a batch as its images one by one, and changes nothing."""
import keras
import numpy as np
import pytest

from conftest import randomize_batchnorms

from pix2pix.inference.generator import (inference_model, load_generator, save_generator,
                                         translate_images)
from pix2pix.model.layers import AlwaysDropout, UpConvolution
from pix2pix.model.networks import define_generator

MODES = ("paper", "deterministic", "eval")


@pytest.fixture(scope="module")
def g64():
    # 64x64: the smallest U-Net with a dropout layer (after decoder layer 2).
    keras.utils.set_random_seed(0)
    g = define_generator((64, 64, 3))
    randomize_batchnorms(g, np.random.default_rng(0))
    return g


@pytest.fixture(scope="module")
def images():
    """Three images of different means and spreads: each must get its own statistics."""
    x = np.random.default_rng(1).uniform(-1, 1, (3, 64, 64, 3)).astype(np.float32)
    x[1] = 0.5 * x[1] + 0.3
    x[2] = 0.2 * x[2] - 0.4
    return x


def frozen_copy(g, dropout=True):
    """G with its weights copied and frozen: called with training=True, its BatchNorm layers
    normalize with the batch's statistics and update nothing; dropout as asked."""
    copy = keras.models.clone_model(g)
    copy.set_weights(g.get_weights())
    copy.trainable = False
    if not dropout:
        for layer in copy.layers:
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    return copy


def run(model, x, training=False):
    return keras.ops.convert_to_numpy(model(x, training=training))


def dropouts(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]


def test_a_batch_translates_as_its_images_one_by_one(g64, images):
    batch = translate_images(g64, images, "deterministic")
    alone = [translate_images(g64, image[np.newaxis], "deterministic")[0] for image in images]
    np.testing.assert_allclose(batch, np.stack(alone), atol=1e-5)
    # Not the statistics of the whole batch, which BatchNorm(training=True) would take.
    pooled = run(frozen_copy(g64, dropout=False), images, training=True)
    assert np.abs(batch - pooled).max() > 0.1


def test_deterministic_and_eval_models_compute_g_as_their_mode_says(g64, images):
    alone = [run(frozen_copy(g64, dropout=False), image[np.newaxis], training=True)[0]
             for image in images]
    np.testing.assert_allclose(run(inference_model(g64, "deterministic"), images),
                               np.stack(alone), atol=1e-5)
    np.testing.assert_allclose(run(inference_model(g64, "eval"), images),
                               run(g64, images), atol=1e-6)


def test_paper_model_computes_g_with_dropout_and_each_images_statistics(g64, images):
    """Compared image by image with the frozen G in training mode drawing the same dropout
    masks: its dropout layer's seed set to the inference model's before each call."""
    paper, frozen = inference_model(g64, "paper"), frozen_copy(g64)
    (drop,), (frozen_drop,) = dropouts(paper), dropouts(frozen)
    assert isinstance(drop, AlwaysDropout) and drop.rate == frozen_drop.rate == 0.5
    for image in images:
        frozen_drop.seed_generator.state.assign(drop.seed_generator.state)
        expected = run(frozen, image[np.newaxis], training=True)
        np.testing.assert_allclose(run(paper, image[np.newaxis]), expected, atol=1e-5)


def test_paper_mode_drops_and_deterministic_does_not(g64, images):
    paper, deterministic = inference_model(g64, "paper"), inference_model(g64, "deterministic")
    first, second = run(paper, images), run(paper, images)
    assert np.abs(first - second).mean() > 0.01
    assert np.array_equal(run(deterministic, images), run(deterministic, images))
    assert dropouts(deterministic) == dropouts(g64)  # G's own layer, a no-op at inference
    assert np.abs(first - run(deterministic, images)).mean() > 0.01


def test_no_mode_changes_a_weight_or_a_moving_average(g64, images):
    before = [keras.ops.convert_to_numpy(v).copy() for v in g64.weights]
    for mode in MODES:
        translate_images(g64, images, mode)
        run(inference_model(g64, mode), images)
    after = [keras.ops.convert_to_numpy(v) for v in g64.weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert g64.trainable and [layer.rate for layer in dropouts(g64)] == [0.5]


def test_the_models_use_gs_own_weights(g64):
    for mode in MODES:
        own = {id(v) for v in inference_model(g64, mode).variables} - {id(v) for v in g64.variables}
        assert len(own) == (mode == "paper")  # only AlwaysDropout's seed is the model's own


@pytest.mark.parametrize("mode", ["deterministic", "eval"])
def test_the_kept_model_follows_g_as_it_trains(mode, images):
    """The compiled model is kept for the next call (training translates its samples every few
    steps): it must see G's weights as they are then, not a copy of them at the first call."""
    g = define_generator((64, 64, 3))
    first = translate_images(g, images, mode)
    randomize_batchnorms(g, np.random.default_rng(2))
    g.get_layer("encoder_1").kernel.assign(g.get_layer("encoder_1").kernel * 2)
    np.testing.assert_allclose(translate_images(g, images, mode),
                               run(inference_model(g, mode), images), atol=1e-5)
    assert np.abs(translate_images(g, images, mode) - first).max() > 0.01


@pytest.mark.parametrize("extension", [".h5", ".keras"])
def test_a_unet_saved_before_up_convolutions_loads_with_them_and_translates_the_same(
        g64, images, tmp_path, extension):
    # As U-Nets were saved before 2026-12-04: the decoder's layers Keras's own Conv2DTranspose.
    old = keras.models.clone_model(g64, clone_function=lambda layer: (
        keras.layers.Conv2DTranspose if isinstance(layer, UpConvolution) else layer.__class__)
        .from_config(layer.get_config()))
    old.set_weights(g64.get_weights())
    assert not any(isinstance(layer, UpConvolution) for layer in old.layers)
    path = str(tmp_path / f"old{extension}")
    save_generator(old, path, {"image_size": 64})
    loaded, _ = load_generator(path)
    assert [layer.name for layer in loaded.layers if isinstance(layer, UpConvolution)] == \
        [f"decoder_{i}" for i in range(1, 7)]
    np.testing.assert_allclose(translate_images(loaded, images, "deterministic"),
                               translate_images(old, images, "deterministic"), atol=1e-5)


def test_other_transposed_convolutions_load_as_they_were(tmp_path):
    keras.utils.set_random_seed(0)
    resnet = define_generator((32, 32, 3), ngf=8, netG="resnet_6blocks")
    path = str(tmp_path / "resnet.h5")
    save_generator(resnet, path, {"image_size": 32})
    loaded, _ = load_generator(path)
    transposed = [type(layer) for layer in loaded.layers
                  if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert transposed == [keras.layers.Conv2DTranspose] * 2  # 3x3 layers, left to Keras
