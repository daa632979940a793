"""The TensorBoard logs of a run, read back as TensorBoard reads them."""
import csv
import io

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pix2pix.data.datasets import PairArrays
from pix2pix.model.gan import define_gan
from pix2pix.training.logs import LOG_FILE_SECONDS, LOSSES, RunLogs
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.training.config import RunConfig
from pix2pix.training.loop import LEARNING_RATE, train

# A training run with held-out scores, logged for TensorBoard: `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def read_events(logdir):
    events = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    events.Reload()
    return {tag: {e.step: tf.make_ndarray(e.tensor_proto) for e in events.Tensors(tag)}
            for tag in events.Tags()["tensors"]}


def test_every_step_samples_and_heldout_scores_reach_tensorboard(tmp_path):
    shape = (32, 32, 3)
    gan_model = define_gan(define_generator(shape, ngf=8), define_discriminator(shape, ndf=8))
    dataset = PairArrays(*synthetic_dataset(8, 32, seed=0))
    heldout = PairArrays(*synthetic_dataset(3, 32, seed=1))
    train(gan_model, dataset, RunConfig(epochs=1, decay_epochs=1, out=str(tmp_path), save_every=1,
                                        sample_every=5, log_every=1, logdir=str(tmp_path / "tb")),
          val=heldout)
    logged = read_events(tmp_path / "tb")

    # Every step's losses, as the loss CSV has them, and the learning rate of its epoch.
    with open(tmp_path / "losses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 16
    for name in LOSSES:
        assert sorted(logged[f"loss/{name}"]) == list(range(1, 17))
        for row in rows:
            assert abs(logged[f"loss/{name}"][int(row["step"])] - float(row[name])) < 1e-5
    rates = logged["learning_rate"]
    assert [float(rates[s]) for s in (1, 8, 9, 16)] == \
        [np.float32(LEARNING_RATE)] * 2 + [np.float32(LEARNING_RATE / 2)] * 2

    # Samples every 5 steps: held-out pairs, source | generated | target side by side.
    samples = logged["source | generated | target"]
    assert sorted(samples) == [5, 10, 15]
    width, height, *pngs = samples[5]
    assert (int(width), int(height), len(pngs)) == (96, 32, 3)
    first = tf.io.decode_png(pngs[0]).numpy()
    assert np.array_equal(first[:, :32], heldout[0][0])
    assert np.array_equal(first[:, 64:], heldout[0][1])

    # The held-out scores at each save (every epoch).
    for name in ("mae", "psnr", "ssim"):
        assert sorted(logged[f"val/{name}"]) == [8, 16]
    assert 0 < logged["val/mae"][16] < 2 and 0 < logged["val/psnr"][16] < 100


def test_the_bar_and_tensorboard_show_every_log_every_steps_and_the_csv_every_step(
        tmp_path, monkeypatch):
    """--log-every 3 over 7 steps: TensorBoard's losses and rate at steps 3 and 6, the bar's
    losses step 6's, losses.csv all 7; a bar writing to a file (not a terminal) draws a line
    at most every LOG_FILE_SECONDS."""
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with RunLogs(str(tmp_path), str(tmp_path / "tb"), 0, 7, None, None, sample_every=0,
                 log_every=3) as logs:
        assert logs.bar.mininterval == LOG_FILE_SECONDS
        for step in range(1, 8):
            logs.step(step, 1, {name: step + i / 10 for i, name in enumerate(LOSSES)}, 2e-4)
        assert "g=6.400" in logs.bar.postfix and logs.bar.n == 7
    logged = read_events(tmp_path / "tb")
    for name in LOSSES:
        assert sorted(logged[f"loss/{name}"]) == [3, 6]
    assert float(logged["loss/g"][6]) == pytest.approx(6.4)
    assert sorted(logged["learning_rate"]) == [3, 6]
    with open(tmp_path / "losses.csv", newline="") as f:
        assert [int(row["step"]) for row in csv.DictReader(f)] == list(range(1, 8))
