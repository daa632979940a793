import keras
import numpy as np
import pytest
import tensorflow as tf

from pix2pix.data.datasets import PairArrays
from pix2pix.training.distribute import distributed_step, make_strategy, read_losses
from pix2pix.model.gan import LAMBDA_L1, define_gan
from pix2pix.model.pytorch_adam import BETA_1, LEARNING_RATE
from pix2pix.data.images import scale_images
from pix2pix.inference.generator import translate_images
from pix2pix.inference.metrics import heldout_scores
from pix2pix.model.networks import define_discriminator, define_generator, set_precision
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.training.config import RunConfig
from pix2pix.training.loop import train

from conftest import exactness_pairs

SHAPE = (32, 32, 3)


def snapshot(model):
    """Every weight of a model, BatchNorm's moving statistics included, by variable path."""
    return {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights
            if "seed_generator" not in v.path}


def changed(before, after):
    return {p for p in before if not np.array_equal(before[p], after[p])}


def build(shape=SHAPE, width=8):
    g = define_generator(shape, ngf=width)
    d = define_discriminator(shape, ndf=width)
    return define_gan(g, d)


@pytest.fixture
def batch():
    src, tar = exactness_pairs(1, SHAPE[0], seed=3)
    return scale_images(src), scale_images(tar)


def reference_step(g, d, source, target, moments, step, gan_mode="vanilla", conditional=True):
    """One iteration of the authors' optimize_parameters(), transcribed with a plain
    GradientTape and Adam written out as torch.optim.Adam computes it: their GANLoss of either
    mode (BCE of logits, or the squared error), or no GAN term at all (gan_mode None: D is not
    trained). An unconditional D is given zeros for the source: what it computes must not
    depend on it."""

    def gan_loss(prediction, label):
        if gan_mode == "lsgan":
            return tf.reduce_mean(tf.square(prediction - label))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            tf.fill(tf.shape(prediction), label), prediction))

    def adam(network, grads):
        for i, (var, grad) in enumerate(zip(network.trainable_variables, grads)):
            m, v = moments.get((network.name, i), (0.0, 0.0))
            m = BETA_1 * m + (1 - BETA_1) * grad
            v = 0.999 * v + 0.001 * grad ** 2
            moments[network.name, i] = m, v
            m_hat, v_hat = m / (1 - BETA_1 ** step), v / (1 - 0.999 ** step)
            var.assign(var - LEARNING_RATE * m_hat / (tf.sqrt(v_hat) + 1e-8))

    source, target = tf.constant(source), tf.constant(target)
    seen = source if conditional else tf.zeros_like(source)
    loss_d = 0.0
    with tf.GradientTape(persistent=True) as tape:
        fake_b = g(source, training=True)
        if gan_mode is not None:
            pred_fake = d([seen, tf.stop_gradient(fake_b)], training=True)
            pred_real = d([seen, target], training=True)
            loss_d = 0.5 * (gan_loss(pred_fake, 0.0) + gan_loss(pred_real, 1.0))
    if gan_mode is not None:
        adam(d, tape.gradient(loss_d, d.trainable_variables))
    with tape:
        loss_g = LAMBDA_L1 * tf.reduce_mean(tf.abs(fake_b - target))
        if gan_mode is not None:
            loss_g += gan_loss(d([seen, fake_b], training=True), 1.0)
    adam(g, tape.gradient(loss_g, g.trainable_variables))
    return float(loss_d), float(loss_g)


@pytest.mark.parametrize("gan_mode, conditional", [
    ("vanilla", True),  # the paper's, in the fast loop; the others of the authors' code are slow
    pytest.param("lsgan", True, marks=pytest.mark.slow),
    pytest.param(None, True, marks=pytest.mark.slow),
    pytest.param("vanilla", False, marks=pytest.mark.slow)])
def test_steps_equal_the_reference_equations(batch, gan_mode, conditional):
    """Two steps of the compiled step, as train.py runs it, and of the transcription, from the
    same weights, end with the same G and D (weights and BatchNorm statistics, to 1e-5), for
    the paper's objective, lsgan, L1 alone (--no-gan: D and its optimizer never move) and an
    unconditional D. At 32x32 the U-Net has no dropout, as in the authors' code, so nothing
    random is left."""
    keras.utils.set_random_seed(0)

    def build_for_the_objective():
        g = define_generator(SHAPE, ngf=8)
        d = define_discriminator(SHAPE, ndf=8, conditional=conditional)
        return define_gan(g, d, gan_mode=gan_mode)

    gan, copy = build_for_the_objective(), build_for_the_objective()
    copy.set_weights(gan.get_weights())
    d_before = snapshot(gan.discriminator)
    source, target = batch
    train_step = distributed_step(gan, make_strategy())
    moments = {}
    for step in (1, 2):
        logs = read_losses(train_step(source, target))
        loss_d, loss_g = reference_step(copy.generator, copy.discriminator, source, target,
                                        moments, step, gan_mode, conditional)
        assert 0.5 * (logs["d_real"] + logs["d_fake"]) == pytest.approx(loss_d, rel=1e-5)
        assert logs["g"] == pytest.approx(loss_g, rel=1e-5)
        assert logs["g"] == pytest.approx(logs["g_gan"] + LAMBDA_L1 * logs["g_l1"], rel=1e-5)
    for ours, theirs in ((gan.generator, copy.generator), (gan.discriminator, copy.discriminator)):
        for a, b in zip(ours.weights, theirs.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.path)
    if gan_mode is None:
        assert changed(d_before, snapshot(gan.discriminator)) == set()
        assert int(gan.d_optimizer.iterations) == 0 and int(gan.g_optimizer.iterations) == 2
    else:
        assert changed(d_before, snapshot(gan.discriminator)) == set(d_before)


def test_a_step_updates_each_optimizer_once_and_runs_g_once(batch, monkeypatch):
    gan = build()
    calls = {"generator": 0, "discriminator": 0}
    for model in (gan.generator, gan.discriminator):
        def counted(*args, model=model, call=model.call, **kwargs):
            calls[model.name] += 1  # counted while the step is traced into its graph
            return call(*args, **kwargs)
        monkeypatch.setattr(model, "call", counted)
    source, target = batch
    for step in (1, 2):
        d_before, g_before = snapshot(gan.discriminator), snapshot(gan.generator)
        gan.train_on_batch(source, target)
        assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == step
        assert changed(d_before, snapshot(gan.discriminator)) == set(d_before)
        assert changed(g_before, snapshot(gan.generator)) == set(g_before)
    # One graph for both steps: G(x) once, D three times (real, generated, generated again).
    assert calls == {"generator": 1, "discriminator": 3}


def test_bfloat16_computes_in_bfloat16_and_keeps_float32_weights(batch):
    set_precision("bfloat16")
    keras.utils.set_random_seed(0)
    gan = build()
    g, d = gan.generator, gan.discriminator
    convolutions = [layer for model in (g, d) for layer in model.layers
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    # All but D's last layer, which gives the logits in float32 for the loss.
    assert {layer.compute_dtype for layer in convolutions[:-1]} == {"bfloat16"}
    assert g.output.dtype == "float32" and d.output.dtype == "float32"
    src, tar = batch
    for _ in range(2):
        d_before, g_before = snapshot(d), snapshot(g)
        losses = gan.train_on_batch(src, tar, return_dict=True)
        assert changed(d_before, snapshot(d)) == set(d_before)
        assert changed(g_before, snapshot(g)) == set(g_before)
    assert all(np.isfinite(list(losses.values())))
    variables = g.weights + d.weights + gan.g_optimizer.variables + gan.d_optimizer.variables
    assert {v.dtype for v in variables if "seed_generator" not in v.path} == {"float32", "int64"}


def test_translation_uses_each_images_statistics_and_changes_nothing():
    # 64x64: the smallest U-Net with a dropout layer (decoder layer 2).
    shape = (64, 64, 3)
    gan = build(shape)
    g = gan.generator
    src, tar = (scale_images(a) for a in synthetic_dataset(1, 64, seed=3))
    for _ in range(3):  # make the moving averages differ from their initial values
        gan.train_on_batch(src, tar)
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
    # result, so compare the dropout-free mode.
    two = np.concatenate([src, scale_images(synthetic_dataset(1, 64, seed=4)[0])])
    assert np.allclose(translate_images(g, two, "deterministic")[:1],
                       translate_images(g, src, "deterministic"), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_generator_learns_the_synthetic_task(tmp_path, precision):
    """A few hundred steps at 64 px beat an untrained generator and copying the source."""
    set_precision(precision)
    keras.utils.set_random_seed(1)
    shape = (64, 64, 3)
    train_set = synthetic_dataset(100, 64, seed=0)
    heldout = synthetic_dataset(30, 64, seed=1)
    g, d = define_generator(shape), define_discriminator(shape)
    gan = define_gan(g, d)
    train(gan, PairArrays(*train_set), RunConfig(epochs=3, out=str(tmp_path), save_every=3, seed=1))
    errors = {name: scores["mae"] for name, scores in heldout_scores(g, *heldout).items()}
    print(errors)
    assert errors["model"] < 0.5 * errors["untrained"]
    assert errors["model"] < 0.5 * errors["source"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.h5", "logs", "losses.csv",
                                                          "model_000300.h5", "plot_000300.png"]
    assert len((tmp_path / "losses.csv").read_text().splitlines()) == 301


@pytest.mark.slow
def test_the_xla_step_computes_what_the_graph_step_computes(batch):
    """--xla compiles the same step: the same losses and weights after two steps, to rounding
    (XLA fuses and orders the sums its own way). Without dropout: XLA draws its own noise.
    Seeded, as the other exactness tests are: unseeded, the networks' first weights came from
    whatever the tests before had drawn, and once in a CI run one weight of decoder_2/kernel's
    65,536 ended 1.4e-5 apart after two steps: the mark of a first gradient near Adam's epsilon,
    whose update rounding sets (tests/conftest.py)."""
    keras.utils.set_random_seed(0)

    def without_dropout():
        return define_gan(define_generator(SHAPE, ngf=8, dropout=False),
                          define_discriminator(SHAPE, ndf=8))
    graph, compiled = without_dropout(), without_dropout()
    compiled.set_weights(graph.get_weights())
    before = snapshot(compiled.generator)
    graph_step = distributed_step(graph, make_strategy())
    xla_step = distributed_step(compiled, make_strategy(), xla=True)
    for _ in range(2):
        expected, logs = read_losses(graph_step(*batch)), read_losses(xla_step(*batch))
        for name in expected:
            assert logs[name] == pytest.approx(expected[name], rel=1e-4, abs=1e-6), name
    for a, b in zip(graph.weights, compiled.weights):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-5, err_msg=a.path)
    assert changed(before, snapshot(compiled.generator))  # it trained
