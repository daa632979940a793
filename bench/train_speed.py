"""Benchmark: seconds per training step, pix2pix.training.train_step against one compiled step.

    python bench/train_speed.py --steps 10

At 256x256 (batch 1, the paper's setting) and at 64x64, in float32 and in mixed bfloat16
(`train.py --precision`), it times `train_step` as train.py runs it (three `train_on_batch`
calls: D on a real pair, D on a generated pair, G through the frozen D), then the same three
updates written as a single `tf.function` with `tf.GradientTape`. It prints
seconds per step, pairs per second, the fraction of the float32 arithmetic floor reached (94 GFLOP
per 256x256 step, against 350 GFLOP/s: 0.27 s) and the peak resident memory so far, and writes
the table as JSON (default bench/train_speed.json).
"""
import argparse
import json
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import pix2pix  # noqa: E402,F401  (imports TensorFlow without its start-up lines)
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from pix2pix.data import scale_images, synthetic_dataset  # noqa: E402
from pix2pix.networks import (PRECISIONS, define_discriminator, define_gan,  # noqa: E402
                              define_generator, set_precision)
from pix2pix.storage import atomic_path  # noqa: E402
from pix2pix.training import train_step  # noqa: E402

GFLOP_256 = 94.0  # forward and backward of G and D for one 256x256 step (three updates)
FLOOR_GFLOPS = 350.0  # the arithmetic rate this 2-core CPU could at best sustain


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def compiled_step(g_model, d_model):
    """The three updates of `train_step` as one tf.function: D real, D fake, then G (L1 x 100)."""
    bce = keras.losses.BinaryCrossentropy()
    d_opt = keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
    g_opt = keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)

    @tf.function
    def step(src, tar):
        fake_tar = g_model(src, training=True)
        for pair, label in (([src, tar], 1.0), ([src, fake_tar], 0.0)):
            with tf.GradientTape() as tape:
                out = d_model(pair, training=True)
                d_loss = 0.5 * bce(tf.fill(tf.shape(out), label), out)
            grads = tape.gradient(d_loss, d_model.trainable_weights)
            d_opt.apply_gradients(zip(grads, d_model.trainable_weights))
        with tf.GradientTape() as tape:
            gen = g_model(src, training=True)
            out = d_model([src, gen], training=True)
            g_loss = bce(tf.ones_like(out), out) + 100.0 * tf.reduce_mean(tf.abs(tar - gen))
        grads = tape.gradient(g_loss, g_model.trainable_weights)
        g_opt.apply_gradients(zip(grads, g_model.trainable_weights))
        return g_loss

    return step


def time_steps(step, pairs, warmup, steps):
    """Seconds per step over `steps` timed steps after `warmup` untimed ones."""
    src, tar = pairs
    for i in range(warmup):
        step(src[i % len(src)][None], tar[i % len(tar)][None])
    start = time.perf_counter()
    for i in range(steps):
        step(src[i % len(src)][None], tar[i % len(tar)][None])
    return (time.perf_counter() - start) / steps


def measure(size, precision, warmup, steps):
    keras.utils.set_random_seed(0)
    set_precision(precision)
    pairs = [scale_images(a) for a in synthetic_dataset(8, size, seed=0)]
    shape = (size, size, 3)
    rows = []
    d_model, g_model = define_discriminator(shape), define_generator(shape)
    gan_model = define_gan(g_model, d_model, shape)
    seconds = time_steps(lambda s, t: train_step(d_model, g_model, gan_model, s, t), pairs,
                         warmup, steps)
    rows.append(("train_step (3 x train_on_batch)", seconds))
    d_model, g_model = define_discriminator(shape), define_generator(shape)
    seconds = time_steps(compiled_step(g_model, d_model), pairs, warmup, steps)
    rows.append(("one tf.function + GradientTape", seconds))
    floor = GFLOP_256 * (size / 256) ** 2 / FLOOR_GFLOPS
    return [{"size": size, "precision": precision, "method": method, "warmup": warmup,
             "steps": steps, "seconds_per_step": s, "pairs_per_second": 1 / s,
             "floor_fraction": floor / s, "peak_rss_mb": peak_rss_mb()} for method, s in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10,
                        help="timed steps at 256x256 (default 10; 64x64 runs 5 times as many)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "train_speed.json"))
    args = parser.parse_args()
    rows = []
    for size, steps in ((256, args.steps), (64, 5 * args.steps)):
        for precision in PRECISIONS:
            rows += measure(size, precision, args.warmup, steps)
    print(f"{'size':>5}  {'precision':<9} {'method':<32} {'s/step':>7} {'pairs/s':>8} "
          f"{'of floor':>8} {'peak RSS MB':>11}")
    for r in rows:
        print(f"{r['size']:>5}  {r['precision']:<9} {r['method']:<32} "
              f"{r['seconds_per_step']:>7.3f} {r['pairs_per_second']:>8.2f} "
              f"{r['floor_fraction']:>8.1%} {r['peak_rss_mb']:>11.0f}")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"gflop_per_256_step": GFLOP_256, "floor_gflops": FLOOR_GFLOPS,
                   "rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
