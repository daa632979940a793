"""Every network and loss of the authors' code as train.py's flags: each trains a few steps at
32x32, is recorded in the checkpoint and the saved model, and translates; nonsense is refused."""
import numpy as np
import pytest
from PIL import Image

from conftest import run_script
from pix2pix.inference.generator import load_generator, translate_images
from pix2pix.training.checkpoint import read_settings

SMALL = ["--epochs", 1, "--ngf", 4, "--sample-every", 0]

OPTIONS = {  # flags -> what the run's configuration must then say
    ("--netG", "resnet_9blocks"): {"netG": "resnet_9blocks"},
    ("--netG", "resnet_6blocks", "--norm", "instance"): {"netG": "resnet_6blocks",
                                                          "norm": "instance"},
    ("--netG", "encoder_decoder"): {"netG": "encoder_decoder"},
    ("--norm", "none"): {"norm": "none"},
    ("--no-dropout",): {"dropout": False},
    ("--gan-mode", "lsgan", "--lr", 1e-4, "--beta1", 0.9): {"gan_mode": "lsgan", "lr": 1e-4,
                                                            "beta1": 0.9},
    ("--no-gan",): {"gan": False},
    ("--unconditional", "--patch", 16): {"conditional": False, "patch": 16},
}


@pytest.mark.slow
@pytest.mark.parametrize("flags", list(OPTIONS), ids=lambda flags: " ".join(map(str, flags)))
def test_each_option_trains_is_recorded_and_translates(tmp_path, tiny_npz, flags):
    out = tmp_path / "run"
    result = run_script("train.py", tiny_npz, *SMALL, *flags, "--out", out)
    assert result.returncode == 0, result.stderr
    expected = OPTIONS[flags]
    settings = read_settings(str(out / "checkpoint.h5"))
    g_model, config = load_generator(str(out / "model_000008.h5"))
    for name, value in expected.items():
        assert settings[name] == value and config[name] == value, name
    source = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    generated = translate_images(g_model, source, "deterministic")
    assert generated.shape == source.shape and np.all(np.abs(generated) <= 1)
    losses = np.genfromtxt(out / "losses.csv", delimiter=",", names=True)
    if expected.get("gan") is False:  # L1 alone: D never trained
        assert np.all(losses["d_real"] == 0) and np.all(losses["g_gan"] == 0)
        np.testing.assert_allclose(losses["g"], 100 * losses["g_l1"], rtol=1e-4)
    else:
        assert np.all(losses["d_real"] > 0) and np.all(losses["g_gan"] > 0)


@pytest.mark.parametrize("flags, words", [
    (["--no-gan", "--unconditional"], "--no-gan trains no discriminator: --unconditional"),
    (["--no-gan", "--gan-mode", "lsgan"], "--gan-mode means nothing"),
    (["--no-gan", "--patch", 16], "--patch means nothing"),
    (["--netG", "unet", "--size", 48], "the U-Net needs square images of a power-of-two size"),
    (["--lr", -1], "--lr cannot be negative"),
])
def test_combinations_that_make_no_sense_are_refused_in_one_line(tmp_path, flags, words):
    folder = tmp_path / "pairs"
    folder.mkdir()
    Image.new("RGB", (96, 48)).save(folder / "pair.png")
    result = run_script("train.py", folder if "--size" in flags else tmp_path / "x.npz", *flags,
                        "--out", tmp_path / "run")
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_generators_can_be_saved_as_keras_files(tmp_path, tiny_npz):
    out = tmp_path / "run"
    result = run_script("train.py", tiny_npz, *SMALL, "--model-format", "keras", "--out", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.glob("model_*")) == ["model_000008.keras"]
    g_model, config = load_generator(str(out / "model_000008.keras"))
    assert config["step"] == 8 and config["netG"] == "unet"
    # An --out that holds .keras models is not trained over without --overwrite either.
    again = run_script("train.py", tiny_npz, *SMALL, "--out", out)
    assert again.returncode == 1 and "already holds trained models" in again.stderr
