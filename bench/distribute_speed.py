"""Benchmark: seconds per training step on one device and mirrored across several.

    python bench/distribute_speed.py --size 128 --batch-size 2 --devices 2

Without GPUs it splits the CPU into `--devices` logical devices: the replicas then share the
same cores, so this measures what distribution costs (splitting the batch, summing gradients,
pooling BatchNorm's statistics), not what more devices gain. Both runs take the same global
batch, one after the other, --rounds times; writes bench/distribute_speed.json.
"""
import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--size", type=int, default=128)
parser.add_argument("--batch-size", type=int, default=2, help="global batch (default 2)")
parser.add_argument("--devices", type=int, default=2, help="logical CPU devices (default 2)")
parser.add_argument("--steps", type=int, default=20, help="timed steps per round (default 20)")
parser.add_argument("--rounds", type=int, default=2)
parser.add_argument("--json", default=os.path.join(os.path.dirname(__file__),
                                                   "distribute_speed.json"))
args = parser.parse_args()

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]  # before TensorFlow starts its devices
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * args.devices)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pix2pix.training.distribute import distributed_step, make_strategy, read_losses  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

from pix2pix.model.gan import define_gan  # noqa: E402
from pix2pix.model.networks import define_discriminator, define_generator  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402


def seconds_per_step(strategy):
    shape = (args.size, args.size, 3)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        gan_model = define_gan(define_generator(shape), define_discriminator(shape))
    step = distributed_step(gan_model, strategy)
    rng = np.random.default_rng(0)
    source, target = rng.uniform(-1, 1, (2, args.batch_size) + shape).astype(np.float32)
    for _ in range(3):
        warm = step(source, target)
    read_losses(warm)  # the warm-up done before the clock starts
    start = time.perf_counter()
    for _ in range(args.steps):
        losses = step(source, target)
    read_losses(losses)  # waits for the last step, and so for all (each needs the one before)
    return (time.perf_counter() - start) / args.steps


strategies = {"one device": make_strategy(),
              f"mirrored, {args.devices} devices": make_strategy(
                  "mirrored", [f"/cpu:{i}" for i in range(args.devices)])}
rows = []
for _ in range(args.rounds):
    times = {name: seconds_per_step(strategy) for name, strategy in strategies.items()}
    one, mirrored = times.values()
    rows.append({**times, "mirrored / one": mirrored / one})
    print(", ".join(f"{name}: {value:.3f}" for name, value in rows[-1].items()))
with atomic_path(args.json) as tmp, open(tmp, "w") as f:
    json.dump({"size": args.size, "batch_size": args.batch_size, "devices": args.devices,
               "steps": args.steps, "rounds": rows}, f, indent=1)
