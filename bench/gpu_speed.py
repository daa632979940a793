"""Benchmark: training steps per second on a GPU, in every precision, XLA on and off.

    python bench/gpu_speed.py                      # 256x256, batch 1, the paper's networks

For each of the project's precisions (PRECISIONS: float32, bfloat16, and float16 where the
project has it) and with XLA off and on (`--xla`), it builds the paper's U-Net and 70x70
PatchGAN, runs --warmup untimed steps (tracing, and XLA's compile) and then --steps timed ones
through `distributed_step`, as train.py runs them, and prints steps per second. Writes the table
as JSON (bench/gpu_speed.json). Without a GPU that TensorFlow sees it says so in one line and
exits 1: its figures are a GPU's, and the CPU's are train_speed.py's.
"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import pix2pix.backend  # noqa: E402,F401  (imports TensorFlow without its start-up lines)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from pix2pix.backend import grow_memory, start_devices  # noqa: E402

from pix2pix.model.gan import define_gan  # noqa: E402
from pix2pix.model.networks import (PRECISIONS, define_discriminator, define_generator,  # noqa: E402
                                    set_precision)
from pix2pix.storage import atomic_path  # noqa: E402
from pix2pix.training.distribute import distributed_step, make_strategy, read_losses  # noqa: E402


def steps_per_second(strategy, size, precision, xla, warmup, steps):
    keras.utils.set_random_seed(0)
    set_precision(precision)
    shape = (size, size, 3)
    gan_model = define_gan(define_generator(shape), define_discriminator(shape))
    step = distributed_step(gan_model, strategy, xla=xla)
    source, target = np.random.default_rng(0).uniform(-1, 1, (2, 8, 1) + shape).astype(np.float32)
    for i in range(max(1, warmup)):  # the first builds the graph
        warm = step(source[i % 8], target[i % 8])
    read_losses(warm)  # the warm-up done before the clock starts
    start = time.perf_counter()
    for i in range(steps):
        losses = step(source[i % 8], target[i % 8])
    losses = read_losses(losses)  # waits for the last step, and so for all (each needs the one before)
    rate = steps / (time.perf_counter() - start)
    set_precision("float32")
    return rate, losses["g"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="image size (default 256)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "gpu_speed.json"))
    args = parser.parse_args()
    if not grow_memory():
        sys.exit("gpu_speed.py: TensorFlow sees no GPU here (see docs/training.md#on-a-gpu); "
                 "the CPU's figures are bench/train_speed.py's")
    strategy = make_strategy()
    name = start_devices()
    rows = []
    print(f"{name}, {args.size}x{args.size}, batch 1, {args.steps} timed steps")
    print(f"{'precision':<9} {'XLA':<4} {'steps/s':>8} {'last G loss':>11}")
    for precision in PRECISIONS:
        for xla in (False, True):
            rate, g_loss = steps_per_second(strategy, args.size, precision, xla, args.warmup,
                                            args.steps)
            rows.append({"gpu": name, "size": args.size, "precision": precision, "xla": xla,
                         "steps": args.steps, "steps_per_second": rate, "g_loss": g_loss})
            print(f"{precision:<9} {'on' if xla else 'off':<4} {rate:>8.2f} {g_loss:>11.3f}",
                  flush=True)
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
