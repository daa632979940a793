"""Benchmark: seconds per training step, side by side with the authors' PyTorch step.

    python bench/train_speed.py --torch-python ../venv-with-torch/bin/python

At 256x256 and 128x128, batch 1, in each precision (float32 and bfloat16 by default), it
times the reference step (bench/reference.py: the
authors' networks and optimize_parameters() in PyTorch, in its own process) and then this
project's step (`Pix2Pix.train_step` through `distributed_step`, as train.py runs it), one
after the other, --rounds times, since this machine's speed drifts. It prints seconds per step,
the ratio of ours to the reference's (float32 always: the authors' arithmetic), and the
fraction of the arithmetic floor reached: the step's GFLOP (counted from the networks: G forward
once and backward twice over, D forward three times and backward four times over: twice for D's
update, weights and inputs, and once into G) at the rate this machine's TensorFlow sustains on a
large matrix product in that precision, measured in the same run. Writes the table as JSON (bench/train_speed.json).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pix2pix.backend import start_devices  # noqa: E402  (TensorFlow without its start-up lines)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.reference import add_torch_flag, reference_seconds  # noqa: E402
from pix2pix.training.distribute import distributed_step, make_strategy, read_losses  # noqa: E402
from pix2pix.model.gan import define_gan  # noqa: E402
from pix2pix.model.networks import (PRECISIONS, define_discriminator, define_generator,  # noqa: E402
                              set_precision)
from pix2pix.data.prepare import save_dataset  # noqa: E402
from pix2pix.data.synthetic import synthetic_dataset  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402



def matmul_gflops(precision="float32", n=2048, repeats=5):
    """GFLOP/s of a large matrix product in `precision`: the best this CPU does with
    TensorFlow."""
    a = tf.cast(tf.random.normal((n, n)), "float32" if precision == "float32" else precision)
    tf.matmul(a, a).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        tf.matmul(a, a).numpy()
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9


def forward_gflop(model):
    """Multiply-adds x 2 of a network's convolutions for one image."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            # A convolution does k*k*c_in multiply-adds per output value; a transposed one
            # does them per input value.
            shape = layer.output.shape if isinstance(layer, keras.layers.Conv2D) \
                else layer.input.shape
            kernel = layer.kernel.shape
            total += 2 * shape[1] * shape[2] * kernel[0] * kernel[1] * kernel[2] * kernel[3]
    return total / 1e9


def measure(size, precision, warmup, steps, netG="unet", norm="batch"):
    """Seconds per step of this project's step, and the step's GFLOP."""
    keras.utils.set_random_seed(0)
    set_precision(precision)
    shape = (size, size, 3)
    g_model = define_generator(shape, netG=netG, norm=norm)
    d_model = define_discriminator(shape, norm=norm)
    gan_model = define_gan(g_model, d_model)
    step = distributed_step(gan_model, make_strategy())
    rng = np.random.default_rng(0)
    source, target = rng.uniform(-1, 1, (2, 8, 1) + shape).astype(np.float32)
    for i in range(max(1, warmup)):  # the first builds the graph
        warm = step(source[i % 8], target[i % 8])
    read_losses(warm)  # the warm-up done before the clock starts
    start = time.perf_counter()
    for i in range(steps):
        losses = step(source[i % 8], target[i % 8])
    read_losses(losses)  # waits for the last step, and so for all (each needs the one before)
    seconds = (time.perf_counter() - start) / steps
    gflop = 3 * forward_gflop(g_model) + 8 * forward_gflop(d_model)
    set_precision("float32")
    return seconds, gflop


def train_py_seconds(size, steps, folder):
    """Seconds per step of train.py as a user runs it (its data path, jitter, logs and bar
    included): the difference between an epoch of `steps` + 2 pairs and one of 2, each in its
    own process, so that start-up and the final save cancel out."""
    elapsed = []
    for pairs in (2, steps + 2):
        data = os.path.join(folder, f"pairs_{size}_{pairs}.npz")
        save_dataset(data, *synthetic_dataset(pairs, size, seed=0))
        start = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), data, "--epochs", "1",
                        "--out", os.path.join(folder, "run"), "--overwrite", "--sample-every",
                        "0", "--seed", "0", "--precision", "float32"], check=True, capture_output=True)
        elapsed.append(time.perf_counter() - start)
    return (elapsed[1] - elapsed[0]) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10,
                        help="timed steps at 256x256 (default 10; 128x128 runs 3 times as many)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times each pair of measurements is repeated (default 2)")
    parser.add_argument("--precision", nargs="+", default=list(PRECISIONS), choices=PRECISIONS,
                        help="this project's precisions (default all; the reference runs "
                             "float32)")
    parser.add_argument("--train-py", action="store_true",
                        help="also time train.py as a user runs it, in float32 (its own "
                             "processes, on synthetic pairs; its floor share is float32's)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "train_speed.json"))
    add_torch_flag(parser)
    args = parser.parse_args()
    print(f"running on {start_devices()}")  # started muted: CUDA's lines stay out of the table
    rows = []
    floor_gflops = {precision: matmul_gflops(precision)
                    for precision in dict.fromkeys(["float32", *args.precision])}
    folder = tempfile.TemporaryDirectory()  # train.py's data and models, removed at exit
    for size, steps in ((256, args.steps), (128, 3 * args.steps)):
        for _ in range(args.rounds):
            # Each round: the reference, then this project in each precision, one after the
            # other, so that every ratio compares timings taken moments apart.
            reference = reference_seconds(args.torch_python, size, steps)
            for precision in args.precision:
                ours, gflop = measure(size, precision, args.warmup, steps)
                rows.append({
                    "size": size, "precision": precision, "steps": steps, "seconds": ours,
                    "reference_seconds": reference,
                    "ratio": ours / reference if reference else None, "gflop": gflop,
                    "floor_fraction": gflop / floor_gflops[precision] / ours,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
            if args.train_py:
                seconds = train_py_seconds(size, steps, folder.name)
                rows.append({"size": size, "precision": "train.py", "steps": steps,
                             "seconds": seconds, "reference_seconds": reference,
                             "ratio": seconds / reference if reference else None,
                             "gflop": gflop, "floor_fraction": gflop / floor_gflops["float32"]
                             / seconds, "peak_rss_mb": None})
    for precision, rate in floor_gflops.items():
        print(f"arithmetic floor, {precision}: {rate:.0f} GFLOP/s (a 2048x2048 matrix product)")
    print(f"{'size':>5} {'precision':<9} {'GFLOP':>6} {'reference s':>11} {'ours s':>7} "
          f"{'ours/ref':>8} {'of floor':>8} {'peak RSS MB':>11}")
    for r in rows:
        reference = f"{r['reference_seconds']:.3f}" if r["reference_seconds"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        print(f"{r['size']:>5} {r['precision']:<9} {r['gflop']:>6.1f} {reference:>11} "
              f"{r['seconds']:>7.3f} {ratio:>8} {r['floor_fraction']:>8.1%} "
              f"{r['peak_rss_mb'] or 0:>11.0f}")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"floor_gflops": floor_gflops, "rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
