"""What a run shows and records as it trains, to read during and after it.

- A progress bar with the losses of every `log_every`-th step, and a warning if D's losses stay
  near zero (G then gets no useful signal: the run has failed). Output that is not a terminal
  (a log file) gets a line every few seconds, not every step.
- `<out>/losses.csv`: every step's losses, one row per step (on resume, the rows past the
  checkpoint's step are dropped, so the file always describes the run that continues).
- TensorBoard logs (`tensorboard --logdir models/logs`): the losses and learning rate every
  `log_every` steps, a few source / generated / target images every `sample_every` steps, and
  the held-out MAE, PSNR and SSIM at every save.
"""
import csv
import os
import sys

import numpy as np
from tqdm import tqdm

from pix2pix.backend import tf
from pix2pix.data.images import three_channels, unscale_images
from pix2pix.inference.generator import translate_images


LOSSES = ("d_real", "d_fake", "g_gan", "g_l1", "g")  # what each step logs, as the step names them
SCORES = ("mae", "psnr", "ssim")  # the held-out scores logged at each save
QUIET_STEPS = 1000  # steps of D's losses near zero after which the run is called failed
LOG_FILE_SECONDS = 5  # the bar's least interval between lines when its output is not a terminal


class RunLogs:
    """A run's progress bar, loss CSV and TensorBoard writer. `samples` are float (source,
    target) batches that G translates every `sample_every` steps for TensorBoard; the bar and
    TensorBoard show the losses every `log_every` steps. A worker other than the chief
    (`write=False`) shows and writes nothing; a run without a GAN term (`watch=False`) has no
    D to watch."""

    def __init__(self, out_dir, logdir, first_step, total_steps, g_model, samples,
                 sample_every, log_every=1, write=True, watch=True):
        self.g_model, self.samples, self.sample_every = g_model, samples, sample_every
        self.log_every, self.write, self.watch, self.quiet_steps = log_every, write, watch, 0
        self.bar = tqdm(total=total_steps, initial=first_step, unit="step", desc="training",
                        disable=not write, file=sys.stderr,
                        mininterval=0.1 if sys.stderr.isatty() else LOG_FILE_SECONDS)
        self.writer = tf.summary.create_noop_writer()
        if write:
            self.loss_file, self.loss_log = open_loss_log(out_dir, first_step)
            self.writer = tf.summary.create_file_writer(logdir)

    def step(self, step, epoch, losses, rate):
        shown = step % self.log_every == 0
        if shown:  # drawn by the bar's next refresh, not forced now
            self.bar.set_postfix(epoch=epoch, lr=f"{rate:.2g}", d_real=f"{losses['d_real']:.3f}",
                                 d_fake=f"{losses['d_fake']:.3f}", g=f"{losses['g']:.3f}",
                                 refresh=False)
        self.bar.update()
        if self.watch:
            self.watch_discriminator(step, losses)
        if not self.write:
            return
        self.loss_log.writerow([step, epoch, *(f"{losses[name]:.5f}" for name in LOSSES)])
        with self.writer.as_default(step=step):
            if shown:
                for name in LOSSES:
                    tf.summary.scalar(f"loss/{name}", losses[name])
                tf.summary.scalar("learning_rate", rate)
            if self.sample_every and step % self.sample_every == 0:
                source, target = self.samples
                generated = translate_images(self.g_model, source)
                tf.summary.image("source | generated | target",
                                 unscale_images(np.concatenate(
                                     [three_channels(x) for x in (source, generated, target)], 2)),
                                 max_outputs=len(source))

    def watch_discriminator(self, step, losses):
        quiet = max(losses["d_real"], losses["d_fake"]) < 0.01
        self.quiet_steps = self.quiet_steps + 1 if quiet else 0
        if self.quiet_steps == QUIET_STEPS:
            tqdm.write(f"warning: D's losses have stayed near zero for {QUIET_STEPS} steps "
                       f"(step {step}); this run has probably failed (G's samples are too "
                       f"easy to tell apart)")

    def scores(self, step, scores):
        tqdm.write("held out: " + ", ".join(f"{name} {scores[name]:.4g}" for name in SCORES))
        with self.writer.as_default(step=step):
            for name in SCORES:
                tf.summary.scalar(f"val/{name}", scores[name])

    def flush(self):
        if self.write:
            self.loss_file.flush()
            self.writer.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()
        if self.write:
            self.loss_file.close()
            self.writer.close()


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
