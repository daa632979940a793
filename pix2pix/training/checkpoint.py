"""Full training checkpoints: everything needed to continue a run exactly where it stopped.

One H5 file holds both networks' weights (BatchNorm statistics and dropout seeds included), both
optimizers' states (Adam's moments and step counts), and the loop's own state as JSON (epoch,
step, learning-rate schedule, random generator state, the current epoch's order, and the run's
settings: dataset, batch size, jitter, widths, ...). It is written to a temporary file and renamed,
so the previous checkpoint stays until the new one is complete.
"""
import json
import os

import h5py
import numpy as np

from pix2pix.backend import keras
from pix2pix.errors import Pix2PixError
from pix2pix.storage import atomic_path


CHECKPOINT_NAME = "checkpoint.h5"


def variable_groups(gan_model):
    """The variables of a run, by group: `variables`, not `weights`, to include the dropout
    layers' random seed states."""
    return {"discriminator": gan_model.discriminator.variables,
            "generator": gan_model.generator.variables,
            "d_optimizer": gan_model.d_optimizer.variables,
            "g_optimizer": gan_model.g_optimizer.variables}


def save_checkpoint(path, gan_model, state):
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for group_name, variables in variable_groups(gan_model).items():
                group = f.create_group(group_name)
                for i, v in enumerate(variables):
                    group.create_dataset(str(i), data=keras.ops.convert_to_numpy(v))
            f.attrs["state"] = json.dumps(state)


def load_checkpoint(path, gan_model):
    """Restore a run's variables from `path` into freshly built models; returns the loop state."""
    try:
        with h5py.File(path, "r") as f:
            for group_name, variables in variable_groups(gan_model).items():
                group = f[group_name]
                if len(group) != len(variables):
                    raise Pix2PixError(f"{path}: a checkpoint of different networks "
                                       f"({group_name}: {len(group)} variables, expected "
                                       f"{len(variables)})")
                for i, v in enumerate(variables):
                    value = np.asarray(group[str(i)])
                    if value.shape != tuple(v.shape):
                        raise Pix2PixError(f"{path}: a checkpoint of different networks "
                                           f"({v.path}: {value.shape}, expected {tuple(v.shape)})")
                    v.assign(value)
            return json.loads(f.attrs["state"])
    except (OSError, KeyError) as e:
        raise Pix2PixError(f"{path}: not a readable checkpoint ({e})") from None


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
