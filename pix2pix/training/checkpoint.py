"""Full training checkpoints: everything needed to continue a run exactly where it stopped.

One H5 file holds both networks' weights (BatchNorm statistics and dropout seeds included), both
optimizers' states (Adam's moments and step counts), and the loop's own state as JSON (epoch,
step, learning-rate schedule, random generator state, the current epoch's order, and the run's
settings: dataset, batch size, jitter, widths, ...). It is written to a temporary file and renamed,
so the previous checkpoint stays until the new one is complete.

Each variable is stored under its group and its key (generator/encoder_2_norm/gamma,
g_optimizer/encoder_1_kernel_momentum, g_optimizer/loss_scale/dynamic_scale in float16) and
loaded by key, so a change in the order of the
variables (same-shaped BatchNorm ones above all) cannot swap them; different keys are refused.
Checkpoints written before keys hold each group's variables by position (generator/0,
generator/1, ...): they still load, by position, in the order of Keras's `variables`.
"""
import json
import os

import h5py
import numpy as np

from pix2pix.backend import keras
from pix2pix.errors import Pix2PixError
from pix2pix.storage import atomic_path


CHECKPOINT_NAME = "checkpoint.h5"
KEYED = "keyed"  # the `layout` attribute of a checkpoint keyed by variable; older ones have none


def variable_groups(gan_model):
    """The variables of a run by group, each a list of (key, variable) in the order of Keras's
    `variables`: `variables`, not `weights`, to include the dropout layers' random seed states."""
    return {"discriminator": network_variables(gan_model.discriminator),
            "generator": network_variables(gan_model.generator),
            "d_optimizer": optimizer_variables(gan_model.d_optimizer),
            "g_optimizer": optimizer_variables(gan_model.g_optimizer)}


def network_variables(model):
    """A network's variables keyed by their layer's name and their own (encoder_2_norm/gamma),
    which networks.py sets. Keras's `path` is the same for all but dropout's seed states, whose
    path numbers the seed generators made before in the process (seed_generator_3/...)."""
    return [(f"{layer.name}/{v.name}", v) for layer in model.layers for v in layer.variables]


def optimizer_variables(optimizer):
    """An optimizer's variables keyed by their names (iteration, encoder_1_kernel_momentum): their
    `path` less the optimizer's own name, which numbers the optimizers made before in the process
    (py_torch_adam_1/...). float16's LossScaleOptimizer keeps its own (the dynamic scale, the
    steps since it last changed, and an iteration and a learning rate of the same names as its
    inner optimizer's) under loss_scale/, and its inner optimizer's as that one alone would."""
    if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return [(v.name, v) for v in optimizer.variables]
    inner = optimizer.inner_optimizer
    inner_ids = {id(v) for v in inner.variables}
    own = [v for v in optimizer.variables if id(v) not in inner_ids]
    return [(f"loss_scale/{v.name}", v) for v in own] + optimizer_variables(inner)


def save_checkpoint(path, gan_model, state):
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for group_name, variables in variable_groups(gan_model).items():
                group = f.create_group(group_name)
                for key, v in variables:
                    group.create_dataset(key, data=keras.ops.convert_to_numpy(v))
            f.attrs["layout"] = KEYED
            f.attrs["state"] = json.dumps(state)


def load_checkpoint(path, gan_model):
    """Restore a run's variables from `path` into freshly built models; returns the loop state."""
    try:
        with h5py.File(path, "r") as f:
            stored = stored_by_key if f.attrs.get("layout") == KEYED else stored_by_position
            for group_name, variables in variable_groups(gan_model).items():
                arrays = stored(f[group_name], [key for key, _ in variables], path)
                for (key, v), array in zip(variables, arrays):
                    value = np.asarray(array)
                    if value.shape != tuple(v.shape):
                        raise different_networks(path, f"{group_name}/{key}: {value.shape}, "
                                                       f"expected {tuple(v.shape)}")
                    v.assign(value)
            return json.loads(f.attrs["state"])
    except (OSError, KeyError) as e:
        raise Pix2PixError(f"{path}: not a readable checkpoint ({e})") from None


def stored_by_key(group, keys, path):
    """The arrays of the H5 `group` for `keys`, in their order; unless the group holds exactly
    those keys, refused with the first one missing or not expected."""
    names = []
    group.visit(names.append)  # every name below the group (append's None goes on visiting)
    stored = {name for name in names if isinstance(group[name], h5py.Dataset)}
    missing = [key for key in keys if key not in stored]
    if missing:
        raise different_networks(path, f"{group.name[1:]}/{missing[0]} is missing")
    unexpected = sorted(stored - set(keys))
    if unexpected:
        raise different_networks(path, f"{group.name[1:]}/{unexpected[0]} is not in these "
                                       f"networks")
    return [group[key] for key in keys]


def stored_by_position(group, keys, path):
    """The arrays of `group` for `keys`, by position, as checkpoints written before keys hold
    them."""
    if len(group) != len(keys):
        raise different_networks(path, f"{group.name[1:]}: {len(group)} variables, expected "
                                       f"{len(keys)}")
    return [group[str(i)] for i in range(len(keys))]


def different_networks(path, what):
    return Pix2PixError(f"{path}: a checkpoint of different networks ({what})")


def read_settings(path):
    """The settings of the run that wrote the checkpoint at `path` ({} for a checkpoint written
    before they were recorded), read without building any model."""
    try:
        with h5py.File(path, "r") as f:
            return json.loads(f.attrs["state"]).get("settings", {})
    except (OSError, KeyError, ValueError) as e:
        raise Pix2PixError(f"{path}: not a readable checkpoint ({e})") from None


def find_checkpoint(out_dir):
    path = os.path.join(out_dir, CHECKPOINT_NAME)
    return path if os.path.isfile(path) else None
