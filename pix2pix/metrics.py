"""How close translations are to their targets."""
import numpy as np

from pix2pix.data import scale_images
from pix2pix.inference import translate_images
from pix2pix.networks import define_generator


def mean_absolute_error(images, targets):
    """Mean absolute error in the networks' [-1, 1] range (the L1 term of the paper's loss)."""
    return float(np.mean(np.abs(np.asarray(images, np.float32) - np.asarray(targets, np.float32))))


def heldout_errors(g_model, dataset, batch=64):
    """Mean absolute error of a generator on uint8 pairs, and of three baselines.

    `source` copies the input as the answer; `untrained` is a freshly initialised generator of
    the same shape; `mean target` answers every input with the mean of the targets.
    """
    src_images, tar_images = dataset
    untrained = define_generator(src_images.shape[1:])
    mean_target = scale_images(tar_images).mean(axis=0)
    totals = {"model": 0.0, "source": 0.0, "untrained": 0.0, "mean target": 0.0}
    for start in range(0, len(src_images), batch):
        src = scale_images(src_images[start:start + batch])
        tar = scale_images(tar_images[start:start + batch])
        n = len(src)
        totals["model"] += mean_absolute_error(translate_images(g_model, src), tar) * n
        totals["untrained"] += mean_absolute_error(translate_images(untrained, src), tar) * n
        totals["source"] += mean_absolute_error(src, tar) * n
        totals["mean target"] += mean_absolute_error(np.broadcast_to(mean_target, tar.shape),
                                                     tar) * n
    return {name: total / len(src_images) for name, total in totals.items()}
