"""A small training run in a process of its own, for tests/test_distribute.py: a distributed
strategy configures TensorFlow as it starts, which a test process has done long before.

    python tests/distributed_run.py OUT VARIABLES [--distribute mirrored --cpus 2] [--resume]

Trains 32x32 networks (no dropout at this size) for 2 epochs of 8 synthetic pairs (in the
exactness tests' colours, tests/conftest.py) at a global batch of 2, without jitter, and saves
every variable of the run (networks and optimizers) into the npz file VARIABLES. A multiworker
run reads its cluster from TF_CONFIG.
"""
import argparse
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("variables")
parser.add_argument("--distribute", default="none")
parser.add_argument("--cpus", type=int, default=1, help="logical CPU devices to make")
parser.add_argument("--resume", action="store_true", help="resume, and train a third epoch")
args = parser.parse_args()

import tensorflow as tf  # noqa: E402

if args.cpus > 1:  # before TensorFlow starts its devices
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * args.cpus)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pix2pix.training.distribute import make_strategy  # noqa: E402

devices = [f"/cpu:{i}" for i in range(args.cpus)] if args.distribute == "mirrored" else None
strategy = make_strategy(args.distribute, devices)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from pix2pix.data.datasets import PairArrays  # noqa: E402
from pix2pix.model.gan import define_gan  # noqa: E402
from pix2pix.model.networks import define_discriminator, define_generator  # noqa: E402
from pix2pix.training.config import RunConfig  # noqa: E402
from pix2pix.training.loop import train  # noqa: E402
from conftest import exactness_pairs  # noqa: E402  (tests/, this script's folder)

shape = (32, 32, 3)
keras.utils.set_random_seed(0)
with strategy.scope():
    gan_model = define_gan(define_generator(shape, ngf=8), define_discriminator(shape, ndf=8))
config = RunConfig(epochs=3 if args.resume else 2, batch_size=2, jitter=False, out=args.out,
                   seed=0, sample_every=0)
train(gan_model, PairArrays(*exactness_pairs(8, 32, seed=0)), config, resume=args.resume,
      strategy=strategy)
variables = (gan_model.variables + gan_model.d_optimizer.variables
             + gan_model.g_optimizer.variables)
np.savez(args.variables, *[keras.ops.convert_to_numpy(v) for v in variables])
