"""The pix2pix training loop: epochs of shuffled, jittered pairs, one compiled step each
(`Pix2Pix.train_step` in pix2pix/gan.py), with the learning-rate schedule, saved models,
checkpoints, resuming and the loss log around it.
"""
import csv
import glob
import math
import os
import signal

import keras
import numpy as np
from tqdm import tqdm

from pix2pix.checkpoint import CHECKPOINT_NAME, find_checkpoint, load_checkpoint, save_checkpoint
from pix2pix.data import iterate_batches, load_batch
from pix2pix.errors import Pix2PixError
from pix2pix.gan import LEARNING_RATE
from pix2pix.images import unscale_images
from pix2pix.inference import save_generator, translate_images
from pix2pix.plotting import plot_translations

LOSSES = ("d_real", "d_fake", "g_gan", "g_l1", "g")  # what each step logs, as the step names them


def seed_everything(seed):
    """Seed Python, NumPy and the Keras backend, so that a run can be repeated."""
    keras.utils.set_random_seed(seed)


def learning_rate(epoch, n_epochs, decay_epochs):
    """The reference schedule: constant for n_epochs, then linear decay to zero over
    decay_epochs (epochs counted from 0, the rate set at the start of each epoch)."""
    return LEARNING_RATE * (1.0 - max(0, epoch + 1 - n_epochs) / (decay_epochs + 1))


def summarize_performance(step, g_model, dataset, out_dir, config, rng, n_samples=3):
    """Save the generator as models/model_<step>.h5 and a plot of a few random translations."""
    indices = rng.choice(len(dataset), size=min(n_samples, len(dataset)), replace=False)
    src, tar = load_batch(dataset, indices)
    gen = translate_images(g_model, src)
    plot_path = os.path.join(out_dir, f"plot_{step:06d}.png")
    plot_translations(unscale_images(src), unscale_images(gen), unscale_images(tar), plot_path)
    model_path = os.path.join(out_dir, f"model_{step:06d}.h5")
    save_generator(g_model, model_path, dict(config, step=step))
    return model_path, plot_path


def open_loss_log(out_dir, resume_step):
    """The per-step loss log; on resume, rows past the checkpoint's step are dropped."""
    path = os.path.join(out_dir, "losses.csv")
    rows = []
    if resume_step and os.path.isfile(path):
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f)][1:]
        rows = [r for r in rows if r and int(r[0]) <= resume_step]
    log_file = open(path, "w", newline="")
    log = csv.writer(log_file)
    log.writerow(["step", "epoch", *LOSSES])
    log.writerows(rows)
    return log_file, log


class StopRequest:
    """Turns the first Ctrl-C into a request to stop after the current step (so the final
    checkpoint is a clean one); a second Ctrl-C interrupts at once."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("stopping after this step (Ctrl-C again to stop at once)")

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)


def train(gan_model, dataset, n_epochs=100, decay_epochs=0, n_batch=1,
          out_dir="models", save_every=10, checkpoint_every=None, jitter=True, config=None,
          seed=None, resume=False, workers=4, settings=None):
    """Train for n_epochs + decay_epochs passes over the pairs of `dataset` (see pix2pix.data).

    Saves the generator every `save_every` epochs and at the end, a full checkpoint every
    `checkpoint_every` steps (default: every epoch) and on Ctrl-C, and every step's losses in
    <out_dir>/losses.csv. With `resume`, continues from <out_dir>/checkpoint.h5 if there is one.
    The checkpoint records the run's `settings` (the caller's: dataset, networks, ...) with the
    loop's own; a resume whose batch size, jitter, image size or number of pairs differs from
    the checkpoint's is refused, as it would misalign the rest of the epoch.
    Returns the path of the last saved model.
    """
    g_model = gan_model.generator
    rng = np.random.default_rng(seed)
    steps_per_epoch = len(dataset) // n_batch
    if steps_per_epoch == 0:
        raise Pix2PixError(f"the dataset has {len(dataset)} pairs, fewer than one batch of "
                           f"{n_batch}")
    total_epochs = n_epochs + decay_epochs
    config = dict(config or {}, image_size=int(dataset.image_shape[0]))
    os.makedirs(out_dir, exist_ok=True)
    for leftover in glob.glob(os.path.join(glob.escape(out_dir), ".*.tmp.*")):
        os.remove(leftover)  # the temporary file of a save that a crash cut short
    checkpoint_path = os.path.join(out_dir, CHECKPOINT_NAME)
    # Where the run stands: the epoch in progress, the batches of it done, its order and seed.
    state = {"epoch": 0, "batch": 0, "step": 0, "order": None, "jitter_seed": None}
    settings = dict(settings or {}, size=config["image_size"], pairs=len(dataset),
                    batch_size=n_batch, jitter=jitter, epochs=n_epochs, decay_epochs=decay_epochs)
    if resume and find_checkpoint(out_dir):
        state = load_checkpoint(checkpoint_path, gan_model)
        rng.bit_generator.state = state.pop("rng")
        recorded = state.pop("settings", {})
        for name in ("size", "pairs", "batch_size", "jitter"):  # what the epoch's order means
            if name in recorded and recorded[name] != settings[name]:
                raise Pix2PixError(f"{checkpoint_path}: its run has {name} {recorded[name]}, this "
                                   f"one {settings[name]}; resume it as it was started")
        print(f"resuming from {checkpoint_path}: epoch {state['epoch'] + 1}, step {state['step']}")

    def checkpoint():
        save_checkpoint(checkpoint_path, gan_model,
                        dict(state, settings=settings, rng=rng.bit_generator.state))

    model_path = None
    quiet_steps = 0  # consecutive steps with D's losses near zero
    log_file, log = open_loss_log(out_dir, state["step"])
    bar = tqdm(total=steps_per_epoch * total_epochs, initial=state["step"], unit="step",
               desc="training")
    with log_file, bar, StopRequest() as stop:
        for epoch in range(state["epoch"], total_epochs):
            rate = learning_rate(epoch, n_epochs, decay_epochs)
            gan_model.d_optimizer.learning_rate = rate
            gan_model.optimizer.learning_rate = rate
            if state["order"] is None:  # a new epoch: new order, new crops and flips
                state.update(epoch=epoch, batch=0, order=rng.permutation(len(dataset)).tolist(),
                             jitter_seed=int(rng.integers(2 ** 63)) if jitter else None)
            batches = iterate_batches(dataset, state["order"], n_batch, state["batch"],
                                      state["jitter_seed"], workers)
            for src, tar in batches:
                logs = gan_model.train_on_batch(src, tar, return_dict=True)
                losses = {name: float(logs[name]) for name in LOSSES}
                if not all(map(math.isfinite, losses.values())):
                    raise Pix2PixError(f"training diverged at step {state['step'] + 1} (losses "
                                       f"{losses}); the last good checkpoint is kept in "
                                       f"{checkpoint_path}")
                state["step"] += 1
                state["batch"] += 1
                step = state["step"]
                log.writerow([step, epoch + 1, *(f"{x:.5f}" for x in losses.values())])
                bar.set_postfix(epoch=epoch + 1, lr=f"{rate:.2g}", d_real=f"{losses['d_real']:.3f}",
                                d_fake=f"{losses['d_fake']:.3f}", g=f"{losses['g']:.3f}")
                bar.update()
                # D answering perfectly for long means G no longer gets a useful signal.
                quiet_steps = quiet_steps + 1 if max(losses['d_real'], losses['d_fake']) < 0.01 else 0
                if quiet_steps == 1000:
                    tqdm.write(f"warning: D's losses have stayed near zero for 1000 steps (step "
                               f"{step}); this run has probably failed (G's samples are too easy "
                               f"to tell apart)")
                if checkpoint_every and step % checkpoint_every == 0:
                    log_file.flush()
                    checkpoint()
                if stop.requested:
                    break
            if stop.requested:
                log_file.flush()
                checkpoint()
                tqdm.write(f"saved {checkpoint_path}; continue with --resume")
                raise KeyboardInterrupt
            state.update(epoch=epoch + 1, batch=0, order=None, jitter_seed=None)
            log_file.flush()
            if (epoch + 1) % save_every == 0 or epoch + 1 == total_epochs:
                model_path, plot_path = summarize_performance(
                    state["step"], g_model, dataset, out_dir, dict(config, epoch=epoch + 1), rng)
                tqdm.write(f"epoch {epoch + 1}: saved {model_path} and {plot_path}")
            if not checkpoint_every:
                checkpoint()
    return model_path
