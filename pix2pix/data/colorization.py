"""Colorization pairs, as the authors' colorization dataset makes them (their
data/colorization_dataset.py and models/colorization_model.py): a colour photo in Lab, its
lightness L the source (1 channel) and its colour ab the target (2 channels).

The networks see L / 50 - 1 and ab / 110, as theirs do. The dataset holds both as uint16, L
over [0, 100] and ab over [-110, 110] spread on 0-65535, so that the one rule of every 16-bit
dataset (0 -> -1, 65535 -> 1) gives exactly those values, to 1/65535.
"""
import numpy as np
from skimage.color import lab2rgb, rgb2lab

L_RANGE, AB_RANGE = 100.0, 110.0
TOP = 65535.0


def photo_to_pair(rgb):
    """A uint8 RGB photo (h, w, 3) -> (L, ab), uint16 (h, w, 1) and (h, w, 2)."""
    lab = rgb2lab(rgb)
    lightness = lab[:, :, :1] / L_RANGE
    ab = (np.clip(lab[:, :, 1:], -AB_RANGE, AB_RANGE) / AB_RANGE + 1) / 2
    return to_uint16(lightness), to_uint16(ab)


def pair_to_photo(lightness, ab):
    """(L, ab) as uint16 arrays (h, w, 1) and (h, w, 2) -> the uint8 RGB photo (h, w, 3)."""
    lab = np.concatenate([lightness / TOP * L_RANGE, (ab / TOP * 2 - 1) * AB_RANGE], axis=-1)
    return (np.clip(lab2rgb(lab), 0, 1) * 255).round().astype(np.uint8)


def lightness_of(rgb):
    """The L channel of a uint8 RGB photo, uint16 (h, w, 1), as `photo_to_pair` gives it."""
    return to_uint16(rgb2lab(rgb)[:, :, :1] / L_RANGE)


def to_uint16(unit):
    return np.clip(unit * TOP, 0, TOP).round().astype(np.uint16)
