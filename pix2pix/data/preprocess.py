"""How each training pair is prepared, as the authors' --preprocess, --load_size, --crop_size
and --no_flip do (their data/base_dataset.py, get_params and get_transform):

- resize_and_crop (the paper's jitter, the default): resize to load x load, random crop x crop;
- crop: a random crop x crop of the pair at its own resolution;
- scale_width: resize to a width of load, keeping the aspect ratio (height at least crop);
- scale_width_and_crop: the same, then a random crop x crop;
- none: the pair as it is.
Both images of a pair get the same resize, crop and flip. Without a random generator (the
plots, the held-out samples, --no-jitter) a pair gets no flip and a centred crop, and
resize_and_crop resizes straight to the crop size.
The values are then scaled to [-1, 1] by one rule, `max_value` (see `scale_images`).
"""
from dataclasses import dataclass, replace

import numpy as np

from pix2pix.data.images import resize_array
from pix2pix.errors import Pix2PixError


PREPROCESS = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")
CROPS = ("resize_and_crop", "crop", "scale_width_and_crop")


@dataclass(frozen=True)
class Preprocess:
    """The settings; `for_side` fills in the sizes left out for a dataset's images."""
    mode: str = "resize_and_crop"
    crop_size: int = None  # None: the side of the dataset's images
    load_size: int = None  # None: crop_size * 286 / 256, the paper's 286 for 256
    flip: bool = True
    max_value: int = None  # the value that maps to 1; None: the type's largest value

    def for_side(self, side):
        crop = self.crop_size or side
        return replace(self, crop_size=crop, load_size=self.load_size or crop * 286 // 256)

    def resized_shape(self, height, width):
        """(height, width) after the resize, before the crop."""
        if self.mode == "resize_and_crop":
            return self.load_size, self.load_size
        if self.mode in ("scale_width", "scale_width_and_crop"):
            return max(int(self.load_size * height / width), self.crop_size), self.load_size
        return height, width

    def output_shape(self, height, width):
        """(height, width) of a prepared pair whose images are height x width."""
        if self.mode in CROPS:
            return self.crop_size, self.crop_size
        return self.resized_shape(height, width)

    def check(self, height, width, name):
        """Refuse, in one line naming `name`, a crop larger than the (resized) image."""
        resized_h, resized_w = self.resized_shape(height, width)
        if self.mode in CROPS and self.crop_size > min(resized_h, resized_w):
            raise Pix2PixError(f"{name}: a {self.crop_size}x{self.crop_size} crop is larger than "
                               f"its {resized_w}x{resized_h} images ({self.mode}); choose a "
                               f"smaller --crop-size")


def preprocess_pair(source, target, preprocess, rng=None, name="a pair"):
    """One (source, target) pair of (h, w, c) arrays prepared as `preprocess` (its sizes filled
    in) says: the same resize, crop and flip for both, drawn from `rng` (None: a centred crop,
    no flip)."""
    height, width = source.shape[:2]
    preprocess.check(height, width, name)
    if rng is None and preprocess.mode == "resize_and_crop":  # the model's size, uncropped
        preprocess = replace(preprocess, load_size=preprocess.crop_size)
    resized_h, resized_w = preprocess.resized_shape(height, width)
    out_h, out_w = preprocess.output_shape(height, width)
    if rng is None:
        top, left, flip = (resized_h - out_h) // 2, (resized_w - out_w) // 2, False
    else:
        top, left = rng.integers(0, (resized_h - out_h + 1, resized_w - out_w + 1))
        flip = preprocess.flip and rng.random() < 0.5
    out = []
    for image in (source, target):
        image = resize_array(image, resized_h, resized_w)[top:top + out_h, left:left + out_w]
        out.append(np.ascontiguousarray(image[:, ::-1]) if flip else image)
    return out[0], out[1]
