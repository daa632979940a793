"""Inception features for FID and KID: Keras's InceptionV3 without its classifier, average-pooled
to 2048 values an image.

With ImageNet's weights these are Keras's (keras.applications, downloaded on first use), not the
TF-FID / pytorch-fid Inception of published FIDs: figures computed here compare with each other,
not with other papers' FIDs.
"""
import os

import numpy as np

from pix2pix.backend import keras
from pix2pix.errors import Pix2PixError
from pix2pix.inference.distributions import fid, kid

INCEPTION_SIZE = 299
NOT_COMPARABLE = ("FID and KID on Keras's ImageNet InceptionV3: comparable with each other, not "
                  "with FIDs computed with other Inception weights (TF-FID, pytorch-fid)")


def inception_model(weights="imagenet"):
    """InceptionV3 features: weights "imagenet" (downloaded by Keras the first time), a weights
    file of the same network (include_top=False), or None for random ones (tests)."""
    if weights not in ("imagenet", None) and not os.path.isfile(weights):
        raise Pix2PixError(f"{weights}: no such InceptionV3 weights file")
    try:
        return keras.applications.InceptionV3(
            include_top=False, pooling="avg", weights=weights,
            input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))
    except Exception as e:  # a failed download or an unreadable file: Keras raises many kinds
        reason = " ".join(str(e).split())[:200] or type(e).__name__
        if weights == "imagenet":
            raise Pix2PixError(f"cannot download InceptionV3's ImageNet weights ({reason}); "
                               f"give the file with --inception-weights FILE") from None
        raise Pix2PixError(f"{weights}: not the weights of InceptionV3 without its top "
                           f"({reason})") from None


def inception_features(model, images):
    """The features (N, 2048) of uint8 RGB images (N, H, W, 3), resized to 299x299 bilinearly."""
    x = keras.ops.image.resize(np.asarray(images, np.float32), (INCEPTION_SIZE, INCEPTION_SIZE),
                               interpolation="bilinear")
    x = keras.applications.inception_v3.preprocess_input(x)  # [0, 255] -> [-1, 1]
    return keras.ops.convert_to_numpy(model(x, training=False)).astype(np.float64)


def inception_distances(generated_features, real_features):
    """{"fid": ..., "kid": ...} of two lists of feature batches."""
    generated, real = np.concatenate(generated_features), np.concatenate(real_features)
    if min(len(generated), len(real)) < 2:
        raise Pix2PixError("FID and KID need at least two images")
    return {"fid": fid(generated, real), "kid": kid(generated, real)}
