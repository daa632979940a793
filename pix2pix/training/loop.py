"""The pix2pix training loop: epochs of shuffled, jittered pairs, one compiled step each
(`Pix2Pix.train_step` in pix2pix/gan.py, split across devices by pix2pix/distribute.py), with
the learning-rate schedule, saved models, checkpoints, resuming and the logs around it.
"""
import contextlib
import dataclasses
import math
import os
import signal

import numpy as np
from tqdm import tqdm

from pix2pix.backend import tf
from pix2pix.data.datasets import iterate_batches, load_batch
from pix2pix.data.images import unscale_images
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import save_generator, translate_images, translate_pixels
from pix2pix.inference.metrics import evaluate_answers
from pix2pix.inference.plotting import plot_translations
from pix2pix.model.gan import L1Only
from pix2pix.model.pytorch_adam import LEARNING_RATE
from pix2pix.storage import remove_leftovers
from pix2pix.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from pix2pix.training.config import RunConfig, resume_settings
from pix2pix.training.distribute import (distributed_step, lost_workers_stop, read_losses,
                                         same_everywhere, shared_seed)
from pix2pix.training.logs import RunLogs


N_SAMPLES = 3  # pairs in each plot and TensorBoard image


def learning_rate(epoch, n_epochs, decay_epochs, initial=LEARNING_RATE):
    """The reference schedule: `initial` for n_epochs, then linear decay to zero over
    decay_epochs (epochs counted from 0, the rate set at the start of each epoch)."""
    return initial * (1.0 - max(0, epoch + 1 - n_epochs) / (decay_epochs + 1))


def save_results(step, epoch, g_model, dataset, config, val, logs):
    """Save the generator as models/model_<step>.h5 (or .keras) and a plot of a few translations of
    training pairs (chosen by the step, so every worker draws the same numbers); with
    held-out pairs `val`, log their scores. Returns the model's path."""
    indices = np.random.default_rng(step).choice(len(dataset), min(N_SAMPLES, len(dataset)),
                                                 replace=False)
    source, target = load_batch(dataset, indices, preprocess=config.preprocessing())
    generated = translate_images(g_model, source)
    plot_path = os.path.join(config.out, f"plot_{step:06d}.png")
    plot_translations(*(unscale_images(x, dataset.dtype, config.max_value)
                        for x in (source, generated, target)), plot_path, config.colorization)
    model_path = os.path.join(config.out, f"model_{step:06d}.{config.model_format}")
    save_generator(g_model, model_path, dict(config.model_config(), step=step, epoch=epoch))
    tqdm.write(f"epoch {epoch}: saved {model_path} and {plot_path}")
    if val is not None:
        answers = {"model": lambda sources: translate_pixels(g_model, sources,
                                                             max_value=config.max_value)}
        logs.scores(step, evaluate_answers(answers, *val, max_value=config.max_value)["model"])
    return model_path


class StopRequest:
    """Turns the first Ctrl-C, or the SIGTERM a scheduler sends before it stops or preempts a
    job, into a request to stop after the current step (so the final checkpoint is a clean
    one, and the same command with --resume continues); a second one interrupts at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.previous = {s: signal.signal(s, self.handle) for s in self.SIGNALS}
        return self

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        what = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        tqdm.write(f"{what}: stopping after this step ({what} again to stop at once)")

    def __exit__(self, *exc):
        for s, previous in self.previous.items():
            signal.signal(s, previous)


def start_state(checkpoint_path, gan_model, config, rng, resume):
    """Where the run stands: the epoch in progress, the batches of it done, its order and
    jitter seed; from the checkpoint when resuming (with `rng`'s state), else at the start.
    A resume that is not the checkpoint's run (another batch size, jitter, image size or
    number of pairs would misalign the rest of the epoch) is refused."""
    state = {"epoch": 0, "batch": 0, "step": 0, "order": None, "jitter_seed": None}
    if not (resume and os.path.isfile(checkpoint_path)):
        return state
    state = load_checkpoint(checkpoint_path, gan_model)
    rng.bit_generator.state = state.pop("rng")
    resume_settings(config.recorded(), state.pop("settings", {}), checkpoint_path)
    print(f"resuming from {checkpoint_path}: epoch {state['epoch'] + 1}, step {state['step']}")
    return state


def check_losses(losses, step, checkpoint_path):
    """Stop a diverged run before it overwrites the last good checkpoint."""
    if not all(map(math.isfinite, losses.values())):
        raise Pix2PixError(f"training diverged at step {step} (losses {losses}); the last "
                           f"good checkpoint is kept in {checkpoint_path}")


def check_batch_size(pairs, batch_size, replicas):
    if pairs < batch_size:
        raise Pix2PixError(f"the dataset has {pairs} pairs, fewer than one batch of {batch_size}")
    if batch_size % replicas:
        raise Pix2PixError(f"a batch of {batch_size} pairs cannot be split evenly across "
                           f"{replicas} replicas; choose a batch size that is a multiple of "
                           f"{replicas}")


def prepared(config, dataset):
    """`config` with what the data decides filled in: the crop and load sizes left out, the
    model's input size, the bit depth, colorization and the number of pairs."""
    preprocess = config.preprocessing().for_side(int(dataset.image_shape[0]))
    preprocess.check(*dataset.image_shape[:2], getattr(dataset, "paths", [config.dataset])[0])
    height, width = preprocess.output_shape(*dataset.image_shape[:2])
    return dataclasses.replace(config, size=height, crop_size=preprocess.crop_size,
                               load_size=preprocess.load_size, pairs=len(dataset),
                               bit_depth=dataset.dtype.itemsize * 8,
                               colorization=dataset.colorization), (height, width)


def held_out(val, dataset, preprocess):
    """The float batches TensorBoard shows (the first held-out pairs, else the first training
    pairs), and the held-out pairs as arrays (None without `val`)."""
    shown = val if val is not None else dataset
    samples = load_batch(shown, range(min(N_SAMPLES, len(shown))), preprocess=preprocess)
    if val is not None:
        val = tuple(map(np.stack, zip(*(val[i] for i in range(len(val))))))
    return samples, val


def train(gan_model, dataset, config=RunConfig(), resume=False, strategy=None, val=None):
    """Train for config.epochs + config.decay_epochs passes over the pairs of `dataset` (see
    pix2pix/data/datasets.py), as `config` (pix2pix/training/config.py) says.

    Saves the generator every `save_every` epochs and at the end, a full checkpoint every
    `checkpoint_every` steps (default: every epoch) and on Ctrl-C, every step's losses in
    <out>/losses.csv and TensorBoard logs in `logdir` (default <out>/logs), with a few
    translations every `sample_every` steps and, given held-out pairs `val` (a dataset), their
    scores at every save. With `resume`, continues from <out>/checkpoint.h5 if there is one,
    which records the run's settings. With a `strategy` (pix2pix/training/distribute.py, the
    networks built in its scope) each batch is split across its replicas and only the chief
    writes files. Returns the path of the last saved model.
    """
    strategy = strategy or tf.distribute.get_strategy()
    chief = strategy.extended.should_checkpoint  # every process, but the other workers
    batch_size, out_dir = config.batch_size, config.out
    check_batch_size(len(dataset), batch_size, strategy.num_replicas_in_sync)
    total_epochs = config.epochs + config.decay_epochs
    config, _ = prepared(config, dataset)
    if config.precision == "auto":  # networks the caller built: record what they compute in
        config = dataclasses.replace(config, precision=gan_model.generator.dtype_policy.name
                                     .removeprefix("mixed_"))
    if chief:
        os.makedirs(out_dir, exist_ok=True)
        remove_leftovers(out_dir)
    checkpoint_path = os.path.join(out_dir, CHECKPOINT_NAME)
    rng = np.random.default_rng(shared_seed(strategy, config.seed))
    state = start_state(checkpoint_path, gan_model, config, rng, resume)
    if not same_everywhere(strategy, state["step"]):
        raise Pix2PixError(f"the workers start from different steps: every worker must resume "
                           f"from the same checkpoint ({checkpoint_path} on a shared folder, "
                           f"or a copy of the chief's)")
    step = distributed_step(gan_model, strategy, xla=config.xla)
    samples, val = held_out(val, dataset, config.preprocessing())
    logs = RunLogs(out_dir, config.logdir or os.path.join(out_dir, "logs"), state["step"],
                   len(dataset) // batch_size * total_epochs, gan_model.generator, samples,
                   config.sample_every, config.log_every, write=chief,
                   watch=not isinstance(gan_model, L1Only))

    # A step's losses are read (the host waits for the device) only once the next step is
    # dispatched, so the device never idles while the host logs; each is still checked and
    # logged under its own step, and always before a checkpoint or a save.
    unread = None  # (step, epoch, losses as tensors, learning rate) of the step not yet read

    def read_unread():
        nonlocal unread
        if unread is None:
            return
        (step_done, epoch_done, losses, rate), unread = unread, None
        losses = read_losses(losses)
        check_losses(losses, step_done, checkpoint_path)
        logs.step(step_done, epoch_done, losses, rate)

    def checkpoint():
        read_unread()
        if chief:
            logs.flush()
            save_checkpoint(checkpoint_path, gan_model,
                            dict(state, settings=config.recorded(),
                                 rng=rng.bit_generator.state))

    model_path = None
    resume_from = checkpoint_path if chief else f"the chief's {CHECKPOINT_NAME}"
    with lost_workers_stop(strategy, resume_from), logs, StopRequest() as stop, \
            contextlib.ExitStack() as at_exit:
        at_exit.callback(read_unread)  # an interrupt or an error still logs the last step done
        for epoch in range(state["epoch"], total_epochs):
            rate = learning_rate(epoch, config.epochs, config.decay_epochs, config.lr)
            gan_model.d_optimizer.learning_rate = rate
            gan_model.g_optimizer.learning_rate = rate
            if state["order"] is None:  # a new epoch: new order, new crops and flips
                state.update(epoch=epoch, batch=0, order=rng.permutation(len(dataset)).tolist(),
                             jitter_seed=int(rng.integers(2 ** 63)) if config.jitter else None)
            for source, target in iterate_batches(dataset, state["order"], batch_size,
                                                  state["batch"], state["jitter_seed"],
                                                  config.workers, config.preprocessing()):
                losses = step(source, target)
                read_unread()  # the previous step's, while this one runs
                state["step"] += 1
                state["batch"] += 1
                unread = (state["step"], epoch + 1, losses, rate)
                if config.checkpoint_every and state["step"] % config.checkpoint_every == 0:
                    checkpoint()
                if stop.requested:
                    checkpoint()
                    tqdm.write(f"saved {checkpoint_path}; continue with --resume")
                    raise KeyboardInterrupt
            read_unread()
            state.update(epoch=epoch + 1, batch=0, order=None, jitter_seed=None)
            if chief and ((epoch + 1) % config.save_every == 0 or epoch + 1 == total_epochs):
                model_path = save_results(state["step"], epoch + 1, gan_model.generator, dataset,
                                          config, val, logs)
            if not config.checkpoint_every:
                checkpoint()
    return model_path
