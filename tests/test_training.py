import keras
import numpy as np
import pytest

from pix2pix.data import PairArrays, scale_images, synthetic_dataset
from pix2pix.inference import translate_images
from pix2pix.metrics import heldout_scores
from pix2pix.networks import define_discriminator, define_gan, define_generator, set_precision
from pix2pix.training import train, train_step

SHAPE = (32, 32, 3)


def snapshot(model):
    """Every weight of a model, BatchNorm's moving statistics included, by variable path."""
    return {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights
            if "seed_generator" not in v.path}


def changed(before, after):
    return {p for p in before if not np.array_equal(before[p], after[p])}


@pytest.fixture
def models():
    keras.utils.set_random_seed(0)
    g = define_generator(SHAPE)
    d = define_discriminator(SHAPE)
    gan = define_gan(g, d, SHAPE)
    return d, g, gan


@pytest.fixture
def batch(rng):
    src, tar = synthetic_dataset(1, SHAPE[0], seed=3)
    return scale_images(src), scale_images(tar)


def test_discriminator_update_moves_d_only(models, batch):
    d, g, gan = models
    src, tar = batch
    real = np.ones((1,) + d.output_shape[1:], "float32")
    d_before, g_before = snapshot(d), snapshot(g)
    # The step that the Keras 2 pattern gets wrong: D's first update comes after define_gan
    # froze it. train_step must unfreeze it for its own update.
    d.trainable = True
    d.train_on_batch([src, tar], real)
    d_after = snapshot(d)
    assert changed(d_before, d_after) == set(d_before)  # kernels, biases, BN gammas, betas, stats
    assert any("moving_mean" in p for p in d_before)
    assert changed(g_before, snapshot(g)) == set()


def test_composite_update_moves_g_only(models, batch):
    d, g, gan = models
    src, tar = batch
    real = np.ones((1,) + d.output_shape[1:], "float32")
    d.trainable = False
    d_before, g_before = snapshot(d), snapshot(g)
    gan.train_on_batch(src, [real, tar])
    assert changed(d_before, snapshot(d)) == set()  # BatchNorm statistics included
    assert changed(g_before, snapshot(g)) == set(g_before)


def test_train_step_updates_both_networks_every_step(models, batch):
    d, g, gan = models
    src, tar = batch
    for _ in range(2):  # the first step traces the train functions; the second reuses them
        d_before, g_before = snapshot(d), snapshot(g)
        losses = train_step(d, g, gan, src, tar)
        assert changed(d_before, snapshot(d)) == set(d_before)
        assert changed(g_before, snapshot(g)) == set(g_before)
    assert len(losses) == 3 and all(np.isfinite(losses))
    # g = BCE + 100 * L1: the L1 term dominates an untrained generator's loss.
    assert losses[2] > 10


def test_bfloat16_computes_in_bfloat16_and_keeps_float32_weights(batch):
    set_precision("bfloat16")
    keras.utils.set_random_seed(0)
    g, d = define_generator(SHAPE), define_discriminator(SHAPE)
    gan = define_gan(g, d, SHAPE)
    convolutions = [layer for model in (g, d) for layer in model.layers
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert {layer.compute_dtype for layer in convolutions} == {"bfloat16"}
    # Outputs in float32: the tanh image and the sigmoid decisions feed the losses.
    assert g.output.dtype == "float32" and d.output.dtype == "float32"
    src, tar = batch
    for _ in range(2):
        d_before, g_before = snapshot(d), snapshot(g)
        losses = train_step(d, g, gan, src, tar)
        assert changed(d_before, snapshot(d)) == set(d_before)
        assert changed(g_before, snapshot(g)) == set(g_before)
    assert all(np.isfinite(losses))
    variables = g.weights + d.weights + gan.optimizer.variables + d.optimizer.variables
    assert {v.dtype for v in variables if "seed_generator" not in v.path} == {"float32", "int64"}


def test_translation_uses_each_images_statistics_and_changes_nothing(models, batch):
    d, g, gan = models
    src, tar = batch
    for _ in range(3):  # make the moving averages differ from their initial values
        train_step(d, g, gan, src, tar)
    before = snapshot(g)
    first = translate_images(g, src)
    second = translate_images(g, src)
    assert changed(before, snapshot(g)) == set()
    assert g.trainable  # restored after translation
    assert first.shape == src.shape
    assert not np.allclose(first, second)  # dropout stays on, as in the paper
    with_moving_averages = keras.ops.convert_to_numpy(g(src, training=False))
    assert np.abs(first - with_moving_averages).mean() > 0.01
    # Each image is normalized alone: translating it in a batch of others gives the same
    # result up to dropout's noise, so compare a dropout-free copy.
    two = np.concatenate([src, scale_images(synthetic_dataset(1, SHAPE[0], seed=4)[0])])
    for layer in g.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    assert np.allclose(translate_images(g, two)[:1], translate_images(g, src), atol=1e-5)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_generator_learns_the_synthetic_task(tmp_path, precision):
    """A few hundred steps at 64 px beat an untrained generator and copying the source."""
    set_precision(precision)
    keras.utils.set_random_seed(1)
    shape = (64, 64, 3)
    train_set = synthetic_dataset(100, 64, seed=0)
    heldout = synthetic_dataset(30, 64, seed=1)
    g, d = define_generator(shape), define_discriminator(shape)
    gan = define_gan(g, d, shape)
    train(d, g, gan, PairArrays(*train_set), n_epochs=3, out_dir=str(tmp_path), save_every=3,
          seed=1)
    errors = {name: scores["mae"] for name, scores in heldout_scores(g, *heldout).items()}
    print(errors)
    assert errors["model"] < 0.5 * errors["untrained"]
    assert errors["model"] < 0.5 * errors["source"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.h5", "losses.csv",
                                                          "model_000300.h5", "plot_000300.png"]
    assert len((tmp_path / "losses.csv").read_text().splitlines()) == 301
