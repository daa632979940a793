"""Runs stopped at any moment lose nothing: SIGKILL mid-step or mid-save, and diverging losses."""
import glob
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, run_script
from pix2pix.training.checkpoint import load_checkpoint
from pix2pix.data.datasets import PairArrays
from pix2pix.model.gan import define_gan
from pix2pix.inference.generator import load_generator
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.training.config import RunConfig
from pix2pix.training.loop import train

# Both tests train, are stopped (killed, or by diverging losses) and resume (seconds to
# minutes): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


def build(shape=(32, 32, 3)):
    g, d = define_generator(shape), define_discriminator(shape)
    return define_gan(g, d)


def test_sigkill_at_random_moments_then_resume(tmp_path, tiny_npz):
    out = tmp_path / "run"
    # Checkpoints and models every step or two, so kills land in saves as well as in steps.
    args = [str(tiny_npz), "--epochs", "5", "--out", str(out), "--checkpoint-every", "1",
            "--save-every", "1", "--seed", "2"]
    rng = np.random.default_rng(0)
    for kill in range(3):
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), *args,
                                 *(["--resume"] if kill else [])],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300  # the first step traces: minutes on a loaded machine
        while not (out / "checkpoint.h5").exists() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Whatever is on disk under its final name is complete.
        state = load_checkpoint(str(out / "checkpoint.h5"), build())
        assert state["step"] >= 1
        for path in glob.glob(str(out / "model_*.h5")):
            model, config = load_generator(path)
            assert config["step"] == int(os.path.basename(path)[6:12])
    result = run_script("train.py", *args, "--resume")
    assert result.returncode == 0, result.stderr
    assert "model_000040.h5" in os.listdir(out)  # 8 pairs x 5 epochs: the planned last step
    steps = [int(r.split(",")[0]) for r in (out / "losses.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 41))
    assert not glob.glob(str(out / ".*tmp*"))  # leftovers of killed saves are cleared


def test_diverging_losses_stop_the_run_and_keep_the_checkpoint(tmp_path, monkeypatch):
    dataset = PairArrays(*synthetic_dataset(4, 32, seed=0))
    gan = build()
    train(gan, dataset, RunConfig(epochs=1, out=str(tmp_path)))
    good = (tmp_path / "checkpoint.h5").read_bytes()
    nan_losses = {"d_real": 0.5, "d_fake": float("nan"), "g_gan": 1.0, "g_l1": 0.5, "g": 51.0}
    monkeypatch.setattr(gan, "train_step", lambda data: nan_losses)
    with pytest.raises(Exception, match="diverged at step 5"):
        train(gan, dataset, RunConfig(epochs=2, out=str(tmp_path)), resume=True)
    assert (tmp_path / "checkpoint.h5").read_bytes() == good
