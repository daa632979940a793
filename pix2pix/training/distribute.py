"""Training on several devices or machines, with TensorFlow's tf.distribute.

Every replica (a GPU, or a machine's devices) holds a copy of both networks and gets its slice of
each global batch; the optimizers sum the replicas' gradients (pix2pix/gan.py scales each loss by
1 / replicas, so the sum is the batch's mean) and BatchNorm pools its statistics across replicas
(pix2pix/networks.py). A run on 2 replicas with a global batch of 2 therefore computes what one
device computes with a batch of 2.

- "mirrored": all devices of this machine (MirroredStrategy);
- "multiworker": several machines, each started with its own TF_CONFIG as TensorFlow defines it
  (MultiWorkerMirroredStrategy); every worker reads the same data and keeps the same order, and
  only the chief writes models, checkpoints and logs.
"""
import contextlib
import os

import numpy as np

from pix2pix.backend import grow_memory, muted_stderr, tf
from pix2pix.errors import Pix2PixError


DISTRIBUTIONS = ("none", "mirrored", "multiworker")


def make_strategy(distribution="none", devices=None):
    """The tf.distribute strategy for `distribution`; `devices` (mirrored only) names the
    devices to use, all GPUs (or the CPU) by default. Create it before any other TensorFlow
    operation: a multi-machine strategy configures TensorFlow as it starts."""
    grow_memory()
    with muted_stderr():
        if distribution == "mirrored":
            return tf.distribute.MirroredStrategy(devices)
        if distribution == "multiworker":
            if "TF_CONFIG" not in os.environ:
                raise Pix2PixError("--distribute multiworker needs TF_CONFIG, the cluster and "
                                   "this worker's place in it, as TensorFlow defines it")
            try:
                return tf.distribute.MultiWorkerMirroredStrategy()
            except (ValueError, KeyError) as e:
                raise Pix2PixError(f"--distribute multiworker: TF_CONFIG does not describe a "
                                   f"cluster ({e})") from None
    return tf.distribute.get_strategy()  # the default: one device, no distribution


def shared_seed(strategy, seed):
    """One seed for every worker, so that all read the same pairs in the same order: the
    given one, or else replica 0's (the chief's) own random draw."""
    if seed is not None:
        return seed
    seed = int(np.random.default_rng().integers(2 ** 31))

    def replica_0_seed():
        first = tf.distribute.get_replica_context().replica_id_in_sync_group == 0
        return tf.where(first, tf.constant(seed, tf.int64), tf.constant(0, tf.int64))
    return int(summed(strategy, replica_0_seed))


def summed(strategy, replica_value):
    """The sum over the replicas of `replica_value()`, computed as one graph (a multi-worker
    strategy run eagerly warns of its overhead)."""
    return tf.function(lambda: strategy.reduce("SUM", strategy.run(replica_value), axis=None))()


def same_everywhere(strategy, value):
    """Whether every replica holds the same number `value` (the same answer on every worker:
    all equal exactly when n * sum(v^2) == sum(v)^2)."""
    def replica_value():
        v = tf.constant(value, tf.float64)
        return tf.stack([v, v * v])
    total, squares = summed(strategy, replica_value).numpy()
    return strategy.num_replicas_in_sync * squares == total * total


@contextlib.contextmanager
def lost_workers_stop(strategy, checkpoint):
    """End a multi-worker run in one line when another worker stops answering (its process
    killed, its machine gone): TensorFlow's collectives fail within seconds on every worker
    left, and the line says which `checkpoint` the restarted workers continue from."""
    try:
        yield
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError) as e:
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            raise
        raise Pix2PixError(f"a worker of the cluster was lost ({type(e).__name__}); start every "
                           f"worker again with --resume to continue from {checkpoint}") from None


def distributed_step(gan_model, strategy, xla=False):
    """`step(source, target)`: one training step (`Pix2Pix.train_step`) on a global batch of
    NumPy arrays, split across the replicas; returns the losses, averaged over the replicas, as
    tensors: the call returns once the step is dispatched, and `read_losses` waits for it.
    `xla` compiles the step with XLA (`jit_compile`) instead of running TensorFlow's graph."""
    replicas = strategy.num_replicas_in_sync

    def split(batch):
        def replica_slice(context):
            n = len(batch) // replicas
            i = context.replica_id_in_sync_group
            return tf.constant(batch[i * n:(i + 1) * n])
        return strategy.experimental_distribute_values_from_function(replica_slice)

    def replica_step(source, target):
        losses = gan_model.train_step((source, target))
        return tf.distribute.get_replica_context().all_reduce("MEAN", losses)

    @tf.function(jit_compile=xla)
    def compiled_step(source, target):
        losses = strategy.run(replica_step, args=(source, target))
        return strategy.experimental_local_results(losses)[0]  # equal on every replica

    traced = False

    def step(source, target):
        nonlocal traced
        # The first call traces the step and optimizes its graph, and on some CPUs TensorFlow's
        # graph optimizer logs from C++ past TF_CPP_MIN_LOG_LEVEL (on AVX-512 ones, "remapper
        # failed" for a fusion it then does without): muted, as TensorFlow's start-up is.
        with contextlib.nullcontext() if traced else muted_stderr():
            losses = compiled_step(split(source), split(target))
        traced = True
        return losses

    return step


def read_losses(losses):
    """A step's losses as floats (waits for the step to finish)."""
    return {name: float(value) for name, value in losses.items()}
