"""A resume that cannot drift: the checkpoint records the run's settings, `train.py --resume`
restores them and refuses flags that contradict them; and the seed tutorial's float32 npz."""
import os
import re
import shutil
import signal

import h5py
import numpy as np
import pytest

from conftest import run_script
from pix2pix.training import loop as training
from pix2pix.training.checkpoint import read_settings
from pix2pix.training.config import RunConfig, resume_settings
from pix2pix.data.datasets import PairArrays, read_npz
from pix2pix.errors import Pix2PixError
from pix2pix.model.gan import define_gan
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.data.synthetic import synthetic_dataset

SMALL = ["--ngf", 8, "--ndf", 8]


def build(shape=(32, 32, 3)):
    return define_gan(define_generator(shape, ngf=8), define_discriminator(shape, ndf=8))


def stop_during_step(monkeypatch, step):
    """Press Ctrl-C during the run's `step`-th step: it finishes the step, saves its checkpoint
    and stops (exit 130), as a user's Ctrl-C does."""
    real = training.iterate_batches
    count = 0

    def batches(*args, **kwargs):
        nonlocal count
        for batch in real(*args, **kwargs):
            count += 1
            if count == step:
                signal.raise_signal(signal.SIGINT)
            yield batch
    monkeypatch.setattr(training, "iterate_batches", batches)


def checkpoint_arrays(path):
    """Every array of a checkpoint, by its name (generator/encoder_2_norm/gamma)."""
    arrays = {}

    def keep(name, item):
        if isinstance(item, h5py.Dataset):
            arrays[name] = np.asarray(item)

    with h5py.File(path, "r") as f:
        f.visititems(keep)
    return arrays


def refused(result, *words):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


def test_resume_settings():
    recorded = {"dataset": "/d.npz", "batch_size": 2, "jitter": True, "reverse": False,
                "epochs": 3, "ngf": 8, "deterministic_ops": True}
    left_out = dict.fromkeys(recorded)

    def merge(**given):
        return resume_settings({**left_out, "dataset": "/d.npz", **given}, recorded, "m/c.h5")

    assert merge() == recorded
    assert merge(batch_size=2, jitter=None, epochs=3) == recorded  # agreeing flags are fine
    assert merge(epochs=5) == dict(recorded, epochs=5)  # training longer is fine
    with pytest.raises(Pix2PixError) as e:
        merge(batch_size=4)
    assert str(e.value) == ("--batch-size 4 contradicts the checkpoint's 2 (m/c.h5); leave it "
                            "out to continue the run")
    for given, words in [({"jitter": False}, "--no-jitter contradicts the checkpoint (m/c.h5)"),
                         ({"reverse": True}, "--reverse contradicts"),
                         ({"ngf": 64}, "--ngf 64 contradicts the checkpoint's 8"),
                         ({"epochs": 2}, "--epochs 2 is less than the checkpoint's 3"),
                         ({"dataset": "/other.npz"}, "/other.npz: not the dataset of the run")]:
        with pytest.raises(Pix2PixError, match=re.escape(words)):
            merge(**given)
    # A checkpoint written before settings were recorded: the flags given, as before.
    given = dict(left_out, dataset="/x.npz", batch_size=4)
    assert resume_settings(given, {}, "m/c.h5") == given


@pytest.mark.slow
def test_train_refuses_to_resume_with_another_batch_size_or_jitter(tmp_path):
    dataset = PairArrays(*synthetic_dataset(4, 32, seed=0))
    training.train(build(), dataset, RunConfig(epochs=1, out=str(tmp_path), ngf=8))
    settings = read_settings(str(tmp_path / "checkpoint.h5"))
    assert settings == dict(RunConfig().recorded(), ngf=8, size=32, pairs=4, batch_size=1,
                            jitter=True, epochs=1, decay_epochs=0, crop_size=32, load_size=35,
                            precision="float32")  # auto, recorded as what the networks compute
    with pytest.raises(Pix2PixError, match="--batch-size 2 contradicts the checkpoint's 1"):
        training.train(build(), dataset,
                       RunConfig(epochs=2, batch_size=2, out=str(tmp_path), ngf=8), resume=True)
    with pytest.raises(Pix2PixError, match="--no-jitter contradicts the checkpoint"):
        training.train(build(), dataset,
                       RunConfig(epochs=2, jitter=False, out=str(tmp_path), ngf=8), resume=True)
    with pytest.raises(Pix2PixError, match="its run has pairs 4, this one 3"):
        training.train(build(), PairArrays(*synthetic_dataset(3, 32, seed=0)),
                       RunConfig(epochs=2, out=str(tmp_path), ngf=8), resume=True)


@pytest.mark.slow
def test_resume_restores_the_settings_and_ends_as_a_run_never_stopped(tmp_path, tiny_npz,
                                                                       monkeypatch):
    flags = ["--epochs", 2, "--batch-size", 2, "--no-jitter", "--patch", 16, "--lambda-l1", 50,
             "--precision", "float32",
             *SMALL, "--seed", 3]
    whole = run_script("train.py", tiny_npz, *flags, "--out", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr

    part = tmp_path / "part"
    with monkeypatch.context() as m:
        stop_during_step(m, 3)  # 8 pairs in batches of 2: in the middle of the first epoch
        stopped = run_script("train.py", tiny_npz, *flags, "--out", part)
    assert stopped.returncode == 130, stopped.stderr
    checkpoint = part / "checkpoint.h5"
    settings = read_settings(str(checkpoint))
    assert settings == {"dataset": os.path.realpath(tiny_npz), "size": 32, "pairs": 8,
                        "reverse": False, "batch_size": 2, "epochs": 2, "decay_epochs": 0,
                        "jitter": False, "patch": 16, "precision": "float32", "lambda_l1": 50.0,
                        "ngf": 8, "ndf": 8, "distribute": "none", "netG": "unet",
                        "norm": "batch", "dropout": True, "gan_mode": "vanilla", "gan": True,
                        "conditional": True, "lr": 2e-4, "beta1": 0.5,
                        # the data's, filled in at the start: the paper's 286/256 load size
                        "preprocess": "resize_and_crop", "crop_size": 32, "load_size": 35,
                        "flip": True, "max_value": None, "bit_depth": 8, "colorization": False,
                        "deterministic_ops": False}
    before = checkpoint.read_bytes()

    # Flags that would change the run half-way are refused, one line each, nothing touched.
    line = refused(run_script("train.py", tiny_npz, "--out", part, "--resume", "--batch-size", 4))
    assert line == (f"train.py: error: --batch-size 4 contradicts the checkpoint's 2 "
                    f"({checkpoint}); leave it out to continue the run")
    for flag, words in [(["--ngf", 16], "--ngf 16 contradicts the checkpoint's 8"),
                        (["--patch", 70], "--patch 70"), (["--lambda-l1", 100], "--lambda-l1"),
                        (["--reverse"], "--reverse contradicts"), (["--size", 64], "--size 64"),
                        (["--epochs", 1], "--epochs 1 is less than the checkpoint's 2")]:
        refused(run_script("train.py", tiny_npz, "--out", part, "--resume", *flag), *words)
    other = tmp_path / "copy.npz"
    shutil.copy(tiny_npz, other)
    refused(run_script("train.py", other, "--out", part, "--resume"), "not the dataset",
            "misalign")
    assert checkpoint.read_bytes() == before

    # The same command without the other flags continues the run, exactly.
    resumed = run_script("train.py", tiny_npz, "--out", part, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    a, b = checkpoint_arrays(tmp_path / "whole" / "checkpoint.h5"), checkpoint_arrays(checkpoint)
    assert a.keys() == b.keys()
    assert all(np.allclose(a[k], b[k], atol=1e-5) for k in a)
    assert sorted(os.listdir(part)) == sorted(os.listdir(tmp_path / "whole"))
    steps = [int(r.split(",")[0]) for r in (part / "losses.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 9))


def write_tutorial_npz(path, n=8, size=32):
    """An npz as the seed tutorial's code saves it: img_to_array's float32 values 0-255."""
    src, tar = synthetic_dataset(n, size, seed=0)
    np.savez_compressed(path, src.astype(np.float32), tar.astype(np.float32))
    return src, tar


def test_the_tutorials_float32_npz_is_converted(tmp_path, capsys):
    path = tmp_path / "tutorial.npz"
    src, tar = write_tutorial_npz(path, n=3)
    loaded_src, loaded_tar = read_npz(str(path))
    assert loaded_src.dtype == loaded_tar.dtype == np.uint8
    assert np.array_equal(loaded_src, src) and np.array_equal(loaded_tar, tar)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "converted to uint8" in err[0] and str(path) in err[0]
    # Values between integers are rounded.
    np.savez(path, src.astype(np.float32) + 0.4, tar.astype(np.float32) - 0.4)
    loaded_src, loaded_tar = read_npz(str(path))
    assert np.array_equal(loaded_src, src) and np.array_equal(loaded_tar, tar)
    # Anything else that is not uint8 is still refused.
    for bad, words in [(src.astype(np.float32) - 1, "from -1 to"),
                       (src.astype(np.float32) / 255,  # scaled to [0, 1]
                        f"from 0 to {str(src.max() / 255)[:4]}"),
                       (np.full(src.shape, np.nan, np.float32), "nan"),
                       (src.astype(np.float64), "found float64"),
                       (src.astype(np.int16), "found int16")]:
        np.savez(path, bad, tar)
        with pytest.raises(Pix2PixError, match=f"arr_0 must be uint8 .*{words}"):
            read_npz(str(path))


@pytest.mark.slow
def test_a_jittered_run_from_the_tutorials_npz_refuses_no_jitter_and_trains_longer(
        tmp_path, monkeypatch):
    data = tmp_path / "tutorial.npz"
    write_tutorial_npz(data)
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        stop_during_step(m, 1)
        stopped = run_script("train.py", data, "--epochs", 1, "--batch-size", 2, *SMALL,
                             "--out", out)
    assert stopped.returncode == 130, stopped.stderr
    assert "converted to uint8" in stopped.stderr
    refused(run_script("train.py", data, "--out", out, "--resume", "--no-jitter"),
            "--no-jitter contradicts the checkpoint", "leave it out")
    # Raising --epochs and --decay-epochs trains longer; flags that agree are accepted.
    result = run_script("train.py", data, "--out", out, "--resume", "--epochs", 2,
                        "--decay-epochs", 1, "--ngf", 8, "--save-every", 1)
    assert result.returncode == 0, result.stderr
    assert {"model_000004.h5", "model_000008.h5", "model_000012.h5"} <= set(os.listdir(out))
    settings = read_settings(str(out / "checkpoint.h5"))
    assert (settings["epochs"], settings["decay_epochs"], settings["batch_size"],
            settings["jitter"], settings["ngf"]) == (2, 1, 2, True, 8)
