"""The loop reads each step's losses only once the next step is dispatched (the host off the
device's critical path), yet logs and checks every step as its own: losses.csv holds each step's
losses under its number, and a diverging step is named and never checkpointed."""
import csv

import numpy as np
import pytest

from pix2pix.data.datasets import PairArrays
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.errors import Pix2PixError
from pix2pix.model.gan import define_gan
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.training import loop
from pix2pix.training.checkpoint import load_checkpoint
from pix2pix.training.config import RunConfig
from pix2pix.training.distribute import read_losses
from pix2pix.training.logs import LOSSES

# Small training runs (seconds each): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


def build(shape=(32, 32, 3)):
    return define_gan(define_generator(shape, ngf=8), define_discriminator(shape, ndf=8))


def loss_rows(out):
    with open(out / "losses.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_each_row_of_losses_csv_is_its_own_steps_losses(tmp_path, monkeypatch):
    """Every step's losses, read at once as the step returns them, are the row of that step:
    none logged a step late or early, none lost at a checkpoint, an epoch's end or the run's."""
    returned = []  # the losses of each call of the step, in order
    real = loop.distributed_step

    def recording_step(*args, **kwargs):
        step = real(*args, **kwargs)

        def recorded(source, target):
            losses = step(source, target)
            returned.append(read_losses(losses))
            return losses
        return recorded
    monkeypatch.setattr(loop, "distributed_step", recording_step)
    dataset = PairArrays(*synthetic_dataset(5, 32, seed=0))
    loop.train(build(), dataset, RunConfig(epochs=2, out=str(tmp_path), checkpoint_every=3,
                                           seed=1))
    rows = loss_rows(tmp_path)
    assert [int(r["step"]) for r in rows] == list(range(1, 11))
    assert [int(r["epoch"]) for r in rows] == [1] * 5 + [2] * 5
    assert len(returned) == 10
    for row, losses in zip(rows, returned):
        assert [row[name] for name in LOSSES] == [f"{losses[name]:.5f}" for name in LOSSES]
    assert len({row["g"] for row in rows}) > 1  # the steps differ: a shifted row would show


@pytest.mark.parametrize("bad_step", [4, 5, 6])
def test_a_step_that_diverges_is_named_and_never_checkpointed(tmp_path, monkeypatch, bad_step):
    """NaN pairs in step `bad_step` (of 6, a checkpoint every 2): the run stops naming that
    step, the checkpoint kept is the last one before it, and losses.csv ends at the step
    before it (4: a checkpoint's step; 5: read only after step 6 is dispatched; 6: the
    epoch's last, before the save)."""
    real = loop.iterate_batches

    def batches(*args, **kwargs):
        for i, (source, target) in enumerate(real(*args, **kwargs), 1):
            yield (np.full_like(source, np.nan) if i == bad_step else source), target
    monkeypatch.setattr(loop, "iterate_batches", batches)
    dataset = PairArrays(*synthetic_dataset(6, 32, seed=0))
    with pytest.raises(Pix2PixError, match=f"diverged at step {bad_step} "):
        loop.train(build(), dataset, RunConfig(epochs=1, out=str(tmp_path), checkpoint_every=2,
                                               seed=1))
    state = load_checkpoint(str(tmp_path / "checkpoint.h5"), build())
    assert state["step"] == (bad_step - 1) // 2 * 2
    assert [int(r["step"]) for r in loss_rows(tmp_path)] == list(range(1, bad_step))
    assert not list(tmp_path.glob("model_*"))


def test_a_steps_losses_are_read_after_the_next_step_is_dispatched(tmp_path, monkeypatch):
    """Within an epoch the host reads step k's losses only once step k + 1 is dispatched; the
    epoch's last step is read before the epoch ends (its save and checkpoint need it)."""
    events = []
    real_step, real_read = loop.distributed_step, loop.read_losses

    class Numbered(dict):
        """A step's losses, with the step's number."""

    def recording_step(*args, **kwargs):
        step = real_step(*args, **kwargs)

        def recorded(source, target):
            losses = Numbered(step(source, target))
            losses.number = sum(what == "dispatched" for what, _ in events) + 1
            events.append(("dispatched", losses.number))
            return losses
        return recorded

    def recording_read(losses):
        events.append(("read", losses.number))
        return real_read(losses)
    monkeypatch.setattr(loop, "distributed_step", recording_step)
    monkeypatch.setattr(loop, "read_losses", recording_read)
    loop.train(build(), PairArrays(*synthetic_dataset(3, 32, seed=0)),
               RunConfig(epochs=2, out=str(tmp_path), seed=1))
    epoch = [("dispatched", 1), ("dispatched", 2), ("read", 1), ("dispatched", 3), ("read", 2),
             ("read", 3)]
    assert events == epoch + [(what, number + 3) for what, number in epoch]
