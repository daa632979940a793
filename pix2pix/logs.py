"""What a run records as it trains, to read during and after it.

- `<out>/losses.csv`: every step's losses, one row per step (on resume, the rows past the
  checkpoint's step are dropped, so the file always describes the run that continues).
- TensorBoard logs (`tensorboard --logdir models/logs`): every step's losses and learning rate,
  a few source / generated / target images every `sample_every` steps, and the held-out MAE,
  PSNR and SSIM at every save.
"""
import csv
import os

import numpy as np
import tensorflow as tf

LOSSES = ("d_real", "d_fake", "g_gan", "g_l1", "g")  # what each step logs, as the step names them
SCORES = ("mae", "psnr", "ssim")  # the held-out scores logged at each save


class RunLogs:
    """The loss CSV and the TensorBoard writer of a run; `write=False` (a worker other than the
    chief) keeps them closed and writes nothing."""

    def __init__(self, out_dir, logdir, resume_step, write=True):
        self.write = write
        self.loss_file = self.loss_log = None
        self.writer = tf.summary.create_noop_writer()
        if write:
            self.loss_file, self.loss_log = open_loss_log(out_dir, resume_step)
            self.writer = tf.summary.create_file_writer(logdir)

    def step(self, step, epoch, losses, rate):
        if not self.write:
            return
        self.loss_log.writerow([step, epoch, *(f"{losses[name]:.5f}" for name in LOSSES)])
        with self.writer.as_default(step=step):
            for name in LOSSES:
                tf.summary.scalar(f"loss/{name}", losses[name])
            tf.summary.scalar("learning_rate", rate)

    def images(self, step, source, generated, target):
        """uint8 batches: each pair as one image, source | generated | target."""
        with self.writer.as_default(step=step):
            tf.summary.image("source | generated | target",
                             np.concatenate([source, generated, target], axis=2),
                             max_outputs=len(source))

    def scores(self, step, scores):
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
