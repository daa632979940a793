"""Training on several devices and machines (tf.distribute) computes what one device computes,
and only the chief writes. Each run is a process of its own (tests/distributed_run.py)."""
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, run_script
from pix2pix.data.prepare import save_dataset
from pix2pix.data.synthetic import synthetic_dataset

RUN = os.path.join(ROOT, "tests", "distributed_run.py")


def start(out, variables, *flags, tf_config=None):
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    if tf_config:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen([sys.executable, RUN, str(out), str(variables), *flags], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, returncode=0):
    out, err = process.communicate(timeout=600)
    assert process.returncode == returncode, err[-3000:]
    return err


def load(path):
    with np.load(path) as f:
        return [f[f"arr_{i}"] for i in range(len(f.files))]


def largest_difference(a, b):
    assert len(a) == len(b)
    return max(float(np.max(np.abs(x.astype(np.float64) - y))) for x, y in zip(a, b))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_mirrored_on_two_devices_computes_what_one_device_computes(tmp_path):
    one = start(tmp_path / "one", tmp_path / "one.npz")
    finish(one)
    two = start(tmp_path / "two", tmp_path / "two.npz", "--distribute", "mirrored", "--cpus", "2")
    finish(two)
    single, mirrored = load(tmp_path / "one.npz"), load(tmp_path / "two.npz")
    # The weights moved, and both runs moved them alike: batches split across the replicas,
    # gradients summed, BatchNorm's statistics pooled.
    assert largest_difference(single, load_untrained(tmp_path)) > 1e-2
    assert largest_difference(single, mirrored) < 1e-4
    losses = [(tmp_path / name / "losses.csv").read_text().splitlines()
              for name in ("one", "two")]
    assert len(losses[0]) == len(losses[1]) == 9  # 8 pairs / 2 x 2 epochs, and the header
    for row_one, row_two in zip(losses[0][1:], losses[1][1:]):  # step, epoch, the losses
        assert np.allclose(np.array(row_one.split(","), float),
                           np.array(row_two.split(","), float), atol=1e-4)


def load_untrained(tmp_path):
    """The networks as the runs start them (seeded alike): the first checkpoint's networks
    differ from them, which is what a run that trained at all shows."""
    import keras
    from pix2pix.model.gan import define_gan
    from pix2pix.model.networks import define_discriminator, define_generator
    shape = (32, 32, 3)
    keras.utils.set_random_seed(0)
    gan_model = define_gan(define_generator(shape, ngf=8), define_discriminator(shape, ndf=8))
    variables = gan_model.variables + gan_model.d_optimizer.variables + \
        gan_model.g_optimizer.variables
    return [keras.ops.convert_to_numpy(v) for v in variables]


def start_workers(tmp_path, *flags):
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    return [start(tmp_path / f"out{i}", tmp_path / f"worker{i}.npz", "--distribute", "multiworker",
                  *flags, tf_config={"cluster": {"worker": workers},
                                     "task": {"type": "worker", "index": i}})
            for i in range(2)]


@pytest.mark.slow
def test_two_workers_train_together_and_only_the_chief_writes(tmp_path):
    for process in start_workers(tmp_path):
        finish(process)
    chief, other = load(tmp_path / "worker0.npz"), load(tmp_path / "worker1.npz")
    assert largest_difference(chief, other) == 0
    assert largest_difference(chief, load_untrained(tmp_path)) > 1e-2
    written = ["checkpoint.h5", "logs", "losses.csv", "model_000008.h5", "plot_000008.png"]
    assert sorted(os.listdir(tmp_path / "out0")) == written
    assert not (tmp_path / "out1").exists()
    # A resume where only the chief sees the checkpoint would train two different networks:
    # every worker refuses it, and the chief's files stay as they were.
    before = {name: (tmp_path / "out0" / name).stat().st_mtime_ns for name in written}
    for process in start_workers(tmp_path, "--resume"):
        assert "the workers start from different steps" in finish(process, returncode=1)
    assert {name: (tmp_path / "out0" / name).stat().st_mtime_ns for name in written} == before


def test_multiworker_without_a_cluster_is_refused(tiny_npz, tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = run_script("train.py", tiny_npz, "--distribute", "multiworker", "--out", tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("train.py: error: --distribute multiworker needs TF_CONFIG")
    assert not os.listdir(tmp_path)


@pytest.mark.slow
def test_a_lost_worker_stops_the_other_in_one_line_and_both_resume(tmp_path):
    """Two workers share one --out (a shared folder: only the chief writes). Worker 1 is killed
    after the first checkpoint: the chief stops within seconds with one line naming the
    checkpoint, none of TensorFlow's own; the same two commands with --resume finish the run,
    every step in losses.csv once."""
    data, out = tmp_path / "pairs.npz", tmp_path / "out"
    save_dataset(str(data), *synthetic_dataset(32, 32, seed=0))
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]

    def start_training(*flags):
        processes = []
        for i in range(2):
            env = dict(os.environ, TF_CONFIG=json.dumps(
                {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}))
            processes.append(subprocess.Popen(
                [sys.executable, os.path.join(ROOT, "train.py"), str(data), "--distribute",
                 "multiworker", "--batch-size", "2", "--ngf", "8", "--ndf", "8", "--epochs",
                 "2", "--decay-epochs", "0", "--checkpoint-every", "2", "--seed", "0",
                 "--out", str(out), *flags], env=env, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True))
        return processes

    chief, other = start_training()
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.h5").exists():
        assert time.monotonic() < deadline and chief.poll() is None, chief.stderr.read()[-3000:]
        time.sleep(0.1)
    other.kill()
    killed = time.monotonic()
    err = finish(chief, returncode=1)
    assert time.monotonic() - killed < 60
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert lines[-1] == (f"train.py: error: a worker of the cluster was lost (UnavailableError); "
                         f"start every worker again with --resume to continue from "
                         f"{out / 'checkpoint.h5'}")
    assert [line for line in lines if not line.startswith("training:")] == lines[-1:]
    other.communicate()

    for process in start_training("--resume"):
        finish(process)
    with open(out / "losses.csv") as f:
        assert [int(row.split(",")[0]) for row in f.read().splitlines()[1:]] == \
            list(range(1, 33))
    assert (out / "model_000032.h5").exists()
