"""The TensorBoard logs of a run, read back as TensorBoard reads them."""
import csv

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pix2pix.data.datasets import PairArrays
from pix2pix.model.gan import define_gan
from pix2pix.training.logs import LOSSES
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
                                        sample_every=5, logdir=str(tmp_path / "tb")), val=heldout)
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
