"""Training as the paper trains: schedule, jitter, batches, folders, checkpoints and resume."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_script
from pix2pix.training import checkpoint
from pix2pix.training.checkpoint import load_checkpoint, save_checkpoint
from pix2pix.data.datasets import PairArrays, PairFolder, iterate_batches, load_batch, random_jitter
from pix2pix.model.gan import define_gan
from pix2pix.inference.generator import load_generator
from pix2pix.model.networks import PATCH_LAYERS, define_discriminator, define_generator
from pix2pix.data.prepare import combine_folders
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.errors import Pix2PixError
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


def build(shape=(32, 32, 3), width=64):
    g, d = define_generator(shape, ngf=width), define_discriminator(shape, ndf=width)
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
    with pytest.raises(Pix2PixError, match=r"different networks \(generator/encoder_5_norm/gamma "
                                           r"is missing\)"):
        load_checkpoint(str(tmp_path / "checkpoint.h5"), build((64, 64, 3)))


def positional_checkpoint(path, gan_model, state):
    """A checkpoint as the code before keys wrote it: each group's variables by position."""
    with h5py.File(path, "w") as f:
        for name in ("discriminator", "generator", "d_optimizer", "g_optimizer"):
            group = f.create_group(name)
            for i, v in enumerate(getattr(gan_model, name).variables):
                group.create_dataset(str(i), data=keras.ops.convert_to_numpy(v))
        f.attrs["state"] = state


def run_variables(gan_model):
    """Every variable of a run, by group and key (generator/encoder_2_norm/gamma)."""
    return {f"{group}/{key}": keras.ops.convert_to_numpy(v)
            for group, variables in checkpoint.variable_groups(gan_model).items()
            for key, v in variables}


@pytest.mark.slow
def test_a_positional_checkpoint_resumes_as_a_keyed_one(tmp_path):
    dataset = PairArrays(*synthetic_dataset(4, 64, seed=0))  # 64x64: G has a dropout layer
    gan = build((64, 64, 3), width=8)
    train(gan, dataset, RunConfig(epochs=1, out=str(tmp_path / "keyed"), seed=5))
    shutil.copytree(tmp_path / "keyed", tmp_path / "positional")
    with h5py.File(tmp_path / "keyed" / "checkpoint.h5", "r") as f:
        assert f["generator/decoder_2_dropout/seed_generator_state"].shape == (2,)
        state = f.attrs["state"]
    positional_checkpoint(tmp_path / "positional" / "checkpoint.h5", gan, state)
    resumed = {}
    for init, layout in enumerate(("keyed", "positional")):
        keras.utils.set_random_seed(init)  # each a new process, initialised differently
        gan = build((64, 64, 3), width=8)
        train(gan, dataset, RunConfig(epochs=2, out=str(tmp_path / layout), seed=5), resume=True)
        resumed[layout] = run_variables(gan)
    keyed, positional = resumed["keyed"], resumed["positional"]
    assert keyed.keys() == positional.keys()
    assert all(np.array_equal(keyed[k], positional[k]) for k in keyed)


@pytest.mark.slow
def test_a_checkpoint_keyed_otherwise_is_refused_in_one_line(tmp_path, tiny_npz):
    out = tmp_path / "run"
    result = run_script("train.py", tiny_npz, "--epochs", 1, "--out", out, "--ngf", 8, "--ndf", 8)
    assert result.returncode == 0, result.stderr
    path = out / "checkpoint.h5"
    with h5py.File(path, "a") as f:
        f["generator"].move("encoder_2_norm/gamma", "encoder_2_norm/weight")
    result = run_script("train.py", tiny_npz, "--epochs", 2, "--out", out, "--resume")
    assert result.returncode == 1
    assert result.stderr == (f"train.py: error: {path}: a checkpoint of different networks "
                             f"(generator/encoder_2_norm/gamma is missing)\n")
    with h5py.File(path, "a") as f:
        f["generator"].move("encoder_2_norm/weight", "encoder_2_norm/gamma")
        f["d_optimizer/layer_9_kernel_momentum"] = np.zeros(3)
    with pytest.raises(Pix2PixError) as e:
        load_checkpoint(str(path), build(width=8))
    assert str(e.value) == (f"{path}: a checkpoint of different networks "
                            f"(d_optimizer/layer_9_kernel_momentum is not in these networks)")


@pytest.mark.parametrize("patch", sorted(PATCH_LAYERS))
def test_checkpoint_keys_are_unique_and_the_same_in_every_build(patch):
    def keys():  # Keras's own paths number some owners by how many were made before
        shape = (256, 256, 3)  # G with dropout layers; room for the 286x286 PatchGAN
        gan = define_gan(define_generator(shape, ngf=8),
                         define_discriminator(shape, ndf=8, patch=patch))
        return {group: [key for key, _ in variables]
                for group, variables in checkpoint.variable_groups(gan).items()}
    first = keys()
    assert keys() == first
    assert all(len(set(group)) == len(group) for group in first.values())
    assert "decoder_2_dropout/seed_generator_state" in first["generator"]


def beta_before_gamma(variables):
    """The same (key, variable) pairs, each BatchNorm's beta moved before its gamma: the two have
    one shape, so by position each would take the other's values."""
    variables = list(variables)
    for i in [i for i, (key, _) in enumerate(variables) if key.endswith("/gamma")]:
        variables[i], variables[i + 1] = variables[i + 1], variables[i]
    return variables


@pytest.mark.slow
def test_checkpoints_load_by_key_whatever_the_order_of_the_variables(tmp_path, monkeypatch):
    gan = build(width=8)
    gan.train_on_batch(*load_batch(PairArrays(*synthetic_dataset(1, 32, seed=0)), [0]))
    saved = run_variables(gan)
    save_checkpoint(str(tmp_path / "keyed.h5"), gan, {"step": 1})
    positional_checkpoint(tmp_path / "positional.h5", gan, json.dumps({"step": 1}))
    groups = checkpoint.variable_groups
    monkeypatch.setattr(checkpoint, "variable_groups", lambda gan_model: {
        name: beta_before_gamma(variables) for name, variables in groups(gan_model).items()})
    loaded = {}
    for layout in ("keyed", "positional"):
        other = build(width=8)
        assert load_checkpoint(str(tmp_path / f"{layout}.h5"), other) == {"step": 1}
        loaded[layout] = run_variables(other)
    assert all(np.array_equal(saved[k], loaded["keyed"][k]) for k in saved)
    # By position, the same reordering swaps them silently.
    gamma, beta = "generator/encoder_2_norm/gamma", "generator/encoder_2_norm/beta"
    assert not np.array_equal(saved[gamma], saved[beta])
    assert np.array_equal(loaded["positional"][gamma], saved[beta])


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(tmp_path, tiny_npz, stop):
    """Ctrl-C, or a scheduler's SIGTERM: the step finishes, a checkpoint is saved, and the same
    command with --resume finishes the run."""
    out = tmp_path / "run"
    cmd = [sys.executable, os.path.join(ROOT, "train.py"), str(tiny_npz), "--epochs", "6",
           "--out", str(out), "--checkpoint-every", "2", "--save-every", "3", "--seed", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "checkpoint.h5").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(stop)
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
