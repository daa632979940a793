"""Training as the paper trains: schedule, jitter, batches, folders, checkpoints and resume."""
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_script
from pix2pix.training.checkpoint import load_checkpoint
from pix2pix.data.datasets import PairArrays, PairFolder, iterate_batches, load_batch, random_jitter
from pix2pix.model.gan import define_gan
from pix2pix.inference.generator import load_generator
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.data.prepare import combine_folders
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.training.config import RunConfig
from pix2pix.training.loop import learning_rate, train


def test_learning_rate_schedule_golden_values():
    rates = [learning_rate(e, 100, 100) for e in range(201)]
    assert rates[0] == rates[99] == 2e-4
    assert rates[100] == pytest.approx(1.9802e-4, rel=1e-4)
    assert rates[150] == pytest.approx(9.901e-5, rel=1e-4)
    assert rates[199] == pytest.approx(1.98e-6, rel=1e-3)
    assert rates[200] == 0
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_jitter_crops_and_flips_source_and_target_alike():
    src, tar = synthetic_dataset(1, 64, seed=0)
    rng = np.random.default_rng(0)
    outs = [random_jitter(src[0], src[0].copy(), rng) for _ in range(20)]
    assert all(a.shape == (64, 64, 3) and np.array_equal(a, b) for a, b in outs)
    assert len({a.tobytes() for a, _ in outs}) > 10  # crops and flips vary
    flipped = random_jitter(np.tile(np.arange(64, dtype=np.uint8)[None, :, None], (64, 1, 3)),
                            src[0], np.random.default_rng(3))[0]
    assert flipped.shape == (64, 64, 3)


def test_folder_dataset_matches_arrays_and_batches_are_repeatable(tmp_path):
    src, tar = synthetic_dataset(6, 32, seed=0)
    for i in range(6):
        Image.fromarray(np.concatenate([src[i], tar[i]], axis=1)).save(tmp_path / f"{i}.png")
    folder, arrays = PairFolder(str(tmp_path), 32), PairArrays(src, tar)
    order = [4, 1, 5, 0, 2, 3]
    a = list(iterate_batches(folder, order, 2, jitter_seed=7, workers=3))
    b = list(iterate_batches(arrays, order, 2, jitter_seed=7, workers=1))
    assert len(a) == 3 and a[0][0].shape == (2, 32, 32, 3)
    for (s1, t1), (s2, t2) in zip(a, b):
        assert np.array_equal(s1, s2) and np.array_equal(t1, t2)
    # Resuming an epoch at batch 1 gives exactly its remaining batches.
    c = list(iterate_batches(arrays, order, 2, first_batch=1, jitter_seed=7))
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(c, b[1:]))
    reversed_src, reversed_tar = load_batch(folder.reversed(), [0])
    assert np.array_equal(reversed_src, load_batch(arrays, [0])[1])


@pytest.mark.slow
def test_batch_size_four():
    shape = (32, 32, 3)
    gan = build(shape)
    src, tar = load_batch(PairArrays(*synthetic_dataset(4, 32)), [0, 1, 2, 3])
    losses = gan.train_on_batch(src, tar, return_dict=True)
    assert all(np.isfinite(list(losses.values())))


@pytest.mark.parametrize("size", [512, 1024])
def test_large_image_sizes_build(size):
    g = define_generator((size, size, 3))
    d = define_discriminator((size, size, 3))
    assert g.output_shape == (None, size, size, 3)
    assert d.output_shape == (None, size // 8 - 2, size // 8 - 2, 1)


def build(shape=(32, 32, 3)):
    g, d = define_generator(shape), define_discriminator(shape)
    return define_gan(g, d)


def weights(gan):
    return [keras.ops.convert_to_numpy(v) for v in gan.weights]


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path):
    dataset = PairArrays(*synthetic_dataset(8, 32, seed=0))
    keras.utils.set_random_seed(0)
    gan = build()
    train(gan, dataset, RunConfig(epochs=2, decay_epochs=1, out=str(tmp_path / "one"),
                                  save_every=1, seed=5))
    whole = weights(gan)

    keras.utils.set_random_seed(0)
    gan = build()
    # Stopped after 1 epoch (the planned run is 2 + 1 decay epochs) ...
    train(gan, dataset, RunConfig(epochs=1, decay_epochs=0, out=str(tmp_path / "two"),
                                  save_every=1, seed=5))
    keras.utils.set_random_seed(123)  # ... then a new process, differently initialised
    gan = build()
    train(gan, dataset, RunConfig(epochs=2, decay_epochs=1, out=str(tmp_path / "two"),
                                  save_every=1, seed=5), resume=True)
    resumed = weights(gan)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(whole, resumed))
    assert sorted(os.listdir(tmp_path / "two")) == sorted(os.listdir(tmp_path / "one"))
    assert "model_000024.h5" in os.listdir(tmp_path / "two")
    log = (tmp_path / "two" / "losses.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in log[1:]] == list(range(1, 25))
    # The decay epoch ran at the scheduled rate.
    assert float(keras.ops.convert_to_numpy(gan.g_optimizer.learning_rate)) == \
        pytest.approx(learning_rate(2, 2, 1))


@pytest.mark.slow
def test_checkpoint_refuses_other_networks(tmp_path):
    dataset = PairArrays(*synthetic_dataset(2, 32, seed=0))
    train(build(), dataset, RunConfig(epochs=1, out=str(tmp_path)))
    with pytest.raises(Exception, match="different networks"):
        load_checkpoint(str(tmp_path / "checkpoint.h5"), build((64, 64, 3)))


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(tmp_path, tiny_npz):
    out = tmp_path / "run"
    cmd = [sys.executable, os.path.join(ROOT, "train.py"), str(tiny_npz), "--epochs", "6",
           "--out", str(out), "--checkpoint-every", "2", "--save-every", "3", "--seed", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "checkpoint.h5").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out_text, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "continue with --resume" in out_text
    assert "Traceback" not in err
    result = run_script("train.py", tiny_npz, "--epochs", 6, "--out", out, "--checkpoint-every",
                        2, "--save-every", 3, "--seed", 1, "--resume")
    assert result.returncode == 0, result.stderr
    assert "resuming from" in result.stdout
    assert {"model_000024.h5", "model_000048.h5"} <= set(os.listdir(out))
    _, config = load_generator(str(out / "model_000048.h5"))
    assert config["step"] == 48 and config["epoch"] == 6
    log = (out / "losses.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in log[1:]] == list(range(1, 49))


@pytest.mark.slow
def test_train_from_a_folder_and_combine(tmp_path):
    src, tar = synthetic_dataset(4, 32, seed=0)
    for name, images in (("a", src), ("b", tar)):
        (tmp_path / name).mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image).save(tmp_path / name / f"{i}.png")
    assert combine_folders(str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "pairs")) == 4
    assert Image.open(tmp_path / "pairs" / "0.png").size == (64, 32)
    result = run_script("train.py", tmp_path / "pairs", "--size", 32, "--epochs", 1, "--out",
                        tmp_path / "models", "--no-jitter")
    assert result.returncode == 0, result.stderr
    _, config = load_generator(str(tmp_path / "models" / "model_000004.h5"))
    assert config["image_size"] == 32
