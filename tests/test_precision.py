"""float16 with loss scaling: a float16 step moves the weights as a float32 step does, within
float16's precision, both optimizers scale their losses, and the scale resumes exactly."""
import keras
import numpy as np
import pytest

from pix2pix.data.images import scale_images
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.model.gan import Pix2Pix, define_gan
from pix2pix.model.networks import define_discriminator, define_generator, set_precision
from pix2pix.model.pytorch_adam import PyTorchAdam
from pix2pix.training.checkpoint import load_checkpoint, save_checkpoint

SHAPE = (32, 32, 3)


@pytest.fixture
def batch():
    source, target = synthetic_dataset(1, SHAPE[0], seed=3)
    return scale_images(source), scale_images(target)


def networks(precision, weights=None):
    set_precision(precision)
    keras.utils.set_random_seed(0)
    g = define_generator(SHAPE, ngf=8, dropout=False)
    d = define_discriminator(SHAPE, ndf=8)
    if weights:
        g.set_weights(weights[0])
        d.set_weights(weights[1])
    return g, d


def moves(gan_model, batch):
    """How far one step moves each trainable weight of G and D."""
    weights = gan_model.generator.trainable_variables + gan_model.discriminator.trainable_variables
    before = [v.numpy() for v in weights]
    gan_model.train_on_batch(*batch)
    return [v.numpy() - b for v, b in zip(weights, before)]


def test_a_float16_step_moves_the_weights_as_a_float32_step():
    """Under plain SGD a weight's move is its gradient, so this compares the two precisions'
    gradients: the float16 step's, scaled up by the loss scale in the step and down again by the
    LossScaleOptimizer, within a few percent of float32's. A step that forgot to scale, or to
    unscale, would be 2^10 times off."""
    rng = np.random.default_rng(0)
    batch = [rng.uniform(-1, 1, (1, *SHAPE)).astype("float32") for _ in range(2)]
    g, d = networks("float32")
    initial = g.get_weights(), d.get_weights()
    reference = Pix2Pix(g, d)
    reference.compile(keras.optimizers.SGD(1.0), keras.optimizers.SGD(1.0))
    expected = moves(reference, batch)

    g16, d16 = networks("float16", initial)
    assert "float16" in {layer.compute_dtype for layer in g16.layers
                         if isinstance(layer, keras.layers.Conv2D)}
    float16 = Pix2Pix(g16, d16)
    scale = 2.0 ** 10  # low enough for these gradients not to overflow
    float16.compile(*(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1.0), scale)
                      for _ in range(2)))
    got = moves(float16, batch)
    # Not a step skipped for an overflow (its scale would have halved).
    assert [o.dynamic_scale.numpy() for o in (float16.d_optimizer, float16.g_optimizer)] == \
        [scale, scale]
    errors = [np.abs(a - b).max() / np.abs(a).max() for a, b in zip(expected, got)]
    assert max(errors) < 0.1
    assert np.median(errors) < 0.03


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "float16"])
def test_only_float16_scales_the_losses_of_both_optimizers(precision):
    gan_model = define_gan(*networks(precision))
    for optimizer in (gan_model.d_optimizer, gan_model.g_optimizer):
        if precision == "float16":
            assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
            assert isinstance(optimizer.inner_optimizer, PyTorchAdam)
        else:
            assert type(optimizer) is PyTorchAdam


def test_the_loss_scale_resumes_exactly_from_a_checkpoint(batch, tmp_path):
    """Both optimizers' dynamic scales and their counts of steps since the last change are kept
    in the checkpoint: a resumed run's next step is the uninterrupted run's, to the bit."""
    trained = define_gan(*networks("float16"))
    for _ in range(6):  # G's gradients overflow at scales of 2^15 to 2^11: 5 steps skipped
        trained.train_on_batch(*batch)
    for optimizer in (trained.d_optimizer, trained.g_optimizer):
        assert optimizer.step_counter.numpy() > 0
    assert trained.g_optimizer.dynamic_scale.numpy() < trained.g_optimizer.initial_scale
    path = str(tmp_path / "checkpoint.h5")
    save_checkpoint(path, trained, {"step": 6})

    resumed = define_gan(*networks("float16"))
    assert load_checkpoint(path, resumed) == {"step": 6}
    for name in ("d_optimizer", "g_optimizer"):
        for variable in ("dynamic_scale", "step_counter"):
            assert (getattr(getattr(resumed, name), variable).numpy() ==
                    getattr(getattr(trained, name), variable).numpy())
    trained.train_on_batch(*batch)
    resumed.train_on_batch(*batch)
    for a, b in zip(trained.generator.weights + trained.discriminator.weights,
                    resumed.generator.weights + resumed.discriminator.weights):
        if "seed_generator" not in a.path:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("flags, gpus, expected, why", [
    ({"avx2", "amx_bf16"}, [], "bfloat16", "AMX_BF16"),
    ({"avx512f", "avx512_bf16"}, [], "bfloat16", "AVX512_BF16"),
    ({"avx2"}, [], "float32", "no bfloat16"),
    ({"avx2"}, [(9, 0)], "bfloat16", "9.0"),
    ({"amx_bf16"}, [(8, 6), (7, 5)], "float16", "7.5"),  # the oldest GPU decides
    ({"amx_bf16"}, [None], "float32", "unknown"),
])
def test_auto_precision_chooses_what_the_hardware_computes_natively(flags, gpus, expected, why):
    from pix2pix.backend import auto_precision
    precision, reason = auto_precision(flags, gpus)
    assert precision == expected
    assert reason.startswith("auto: ") and why in reason


def test_cpu_flags_come_from_cpuinfo(tmp_path):
    from pix2pix.backend import cpu_flags
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\n")
    assert cpu_flags(str(cpuinfo)) == {"fpu", "avx2", "amx_bf16"}
    assert cpu_flags(str(tmp_path / "absent")) == set()


def test_deterministic_ops_without_a_seed_is_refused(tiny_npz, tmp_path):
    from conftest import assert_fails, run_script
    result = run_script("train.py", tiny_npz, "--deterministic-ops", "--out", tmp_path / "run")
    assert_fails(result, "--deterministic-ops", "--seed")


@pytest.mark.slow
def test_auto_is_recorded_resolved_and_a_resume_keeps_it(tiny_npz, tmp_path, monkeypatch):
    import glob
    from conftest import run_script
    from pix2pix import backend
    from pix2pix.inference.generator import load_generator
    from pix2pix.training.checkpoint import read_settings
    monkeypatch.setattr(backend, "gpu_capabilities", lambda: [])
    monkeypatch.setattr(backend, "cpu_flags", lambda: {"amx_bf16"})
    out = tmp_path / "run"
    small = ["--batch-size", 4, "--ngf", 8, "--ndf", 8, "--sample-every", 0, "--out", out]
    started = run_script("train.py", tiny_npz, "--epochs", 1, *small)
    assert started.returncode == 0, started.stderr
    assert "in bfloat16 (auto: this CPU has bfloat16 instructions (AMX_BF16))" in started.stdout
    assert read_settings(str(out / "checkpoint.h5"))["precision"] == "bfloat16"
    monkeypatch.setattr(backend, "cpu_flags", lambda: set())  # auto would choose float32 now
    resumed = run_script("train.py", tiny_npz, "--epochs", 2, "--resume", "--precision", "auto",
                         *small)
    assert resumed.returncode == 0, resumed.stderr
    assert "in bfloat16\n" in resumed.stdout
    assert read_settings(str(out / "checkpoint.h5"))["precision"] == "bfloat16"
    assert load_generator(sorted(glob.glob(str(out / "model_*.h5")))[-1])[1]["precision"] == \
        "bfloat16"
