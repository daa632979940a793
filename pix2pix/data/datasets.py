"""The training data: pairs of uint8 or uint16 images from an npz file or a folder, and their
batches.

A dataset gives its pairs by index, (source, target), each (height, width, channels), sources
and targets each with their own channel count, all of one type (uint8 or uint16): `PairArrays`
holds them in memory, `PairFolder` reads each from its side-by-side image when asked for it.
An npz file holds two arrays, uint8 or uint16 (N, height, width, channels): `arr_0` the
sources and `arr_1` the targets (float32 arrays of values 0-255, as Keras's `img_to_array`
gives them, are converted on loading), and for a colorization set (L to ab, see
colorization.py) a third, `colorization`. Pairs are prepared (pix2pix/data/preprocess.py) and
scaled to [-1, 1] one batch at a time (`load_batch`), since the float32 copy of maps would be
1.7 GB.
"""
import collections
from concurrent.futures import ThreadPoolExecutor
import copy
import os
import sys
import zipfile

import numpy as np
from tqdm import tqdm

from pix2pix.data.images import IMAGE_EXTENSIONS, list_images, load_pair, scale_images
from pix2pix.data.preprocess import Preprocess, preprocess_pair
from pix2pix.errors import Pix2PixError


def load_dataset(path, size=256, in_memory=False):
    """The pairs of an npz file or of a folder of side-by-side images, as a dataset.

    An npz file is held in memory, at the size its images have. A folder's images are resized
    to `size`, a side or (height, width) (None: each at its own size); by default each is read
    when it is asked for, so that training on any number of them keeps memory flat. With
    `in_memory` the folder is read whole, its damaged images named and skipped: for evaluation,
    which translates every pair.
    """
    if not os.path.isdir(path):
        sources, targets = read_npz(path)
        with np.load(path) as data:
            return PairArrays(sources, targets, colorization="colorization" in data.files)
    if in_memory:
        return PairArrays(*load_images(path, size))
    return PairFolder(path, size)


class PairArrays:
    """Pairs held in memory as two arrays (uint8 or uint16, any channels each)."""

    def __init__(self, sources, targets, colorization=False):
        self.sources, self.targets, self.colorization = sources, targets, colorization
        self.image_shape, self.target_shape = sources.shape[1:], targets.shape[1:]
        self.dtype = sources.dtype

    def __len__(self):
        return len(self.sources)

    def __getitem__(self, i):
        return self.sources[i], self.targets[i]

    def reversed(self):
        if self.colorization:
            raise Pix2PixError("a colorization set translates L to ab only; --reverse means "
                               "nothing for it")
        return PairArrays(self.targets, self.sources)


class PairFolder:
    """Pairs read from a folder of side-by-side images when asked for: memory stays flat
    whatever the number of images. Each image is split and resized to `size` (None: kept at its
    own size) on reading. The first image sets the channels and type (8 or 16 bits) and, for
    None, the shape that the others are checked against."""

    colorization = False

    def __init__(self, folder, size=256):
        self.paths = list_images(folder)
        if not self.paths:
            raise Pix2PixError(f"{folder}: no images found")
        self.size, self.reverse = size, False
        first = load_pair(self.paths[0], size)[0]
        self.image_shape = self.target_shape = first.shape
        self.dtype = first.dtype

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        source, target = (check_alike(image, self.image_shape, self.dtype, self.paths[i],
                                      self.paths[0]) for image in load_pair(self.paths[i], self.size))
        return (target, source) if self.reverse else (source, target)

    def reversed(self):
        other = copy.copy(self)
        other.reverse = not self.reverse
        return other


def check_alike(image, shape, dtype, path, first):
    """`image` as the dataset's first one's kind: an 8-bit grayscale one among colour ones
    widened to RGB (lossless, as the authors' code converts every image); another channel count
    or bit depth refused (any size is fine: preprocessing makes them alike)."""
    if image.shape[2] == 1 and shape[2] == 3 and image.dtype == dtype == np.uint8:
        return np.repeat(image, 3, axis=-1)
    if image.shape[2] != shape[2] or image.dtype != dtype:
        raise Pix2PixError(f"{path}: {image.shape[2]}-channel {image.dtype.itemsize * 8}-bit "
                           f"images, but {first} has {shape[2]}-channel {dtype.itemsize * 8}-bit "
                           f"ones; a dataset holds one kind")
    return image


# ---------------------------------------------------------------------------------------------
# Reading npz files and folders

def read_npz(path):
    """Load the training arrays of an npz file: (sources, targets), uint8 or uint16
    (N, height, width, channels).

    float32 arrays of values 0-255, as Keras's `img_to_array` gives them, are rounded to
    uint8, with a one-line note on stderr; anything else is refused."""
    if not os.path.isfile(path):
        raise Pix2PixError(f"{path}: no such file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":  # every npz is a zip archive
        raise Pix2PixError(f"{path}: not an npz file (make one with prepare_dataset.py)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "arr_0" not in data or "arr_1" not in data:
                raise Pix2PixError(f"{path}: not a pix2pix dataset (it needs arrays arr_0 and "
                                   f"arr_1, found {', '.join(data.files) or 'none'})")
            sources, targets = data["arr_0"], data["arr_1"]
    except Pix2PixError:
        raise
    except zipfile.BadZipFile as e:
        raise Pix2PixError(f"{path}: damaged or truncated npz file ({e})") from None
    except Exception as e:  # format errors all mean the same thing to the user, but one
        if isinstance(e, ValueError) and "pickle" in str(e):
            raise Pix2PixError(f"{path}: holds Python objects, which are never loaded (unpickling "
                               f"can run any code); a dataset holds uint8 image arrays") from None
        raise Pix2PixError(f"{path}: not a readable npz file ({e})") from None
    for name, array in (("arr_0", sources), ("arr_1", targets)):
        if array.dtype not in (np.uint8, np.uint16, np.float32) or array.ndim != 4 \
                or 0 in array.shape[1:] or not in_byte_range(array):
            found = f"{array.dtype} {array.shape}"
            if array.dtype == np.float32 and array.size:
                found += f" with values from {array.min():g} to {array.max():g}"
            raise Pix2PixError(f"{path}: {name} must be uint8 images of shape (N, height, width, "
                               f"channels), or uint16 ones (or float32 with values 0-255, as "
                               f"keras img_to_array gives), found {found}")
    if sources.shape[:3] != targets.shape[:3] or len(sources) == 0:
        raise Pix2PixError(f"{path}: arr_0 and arr_1 must hold the same number (> 0) of same-sized "
                           f"images, found {sources.shape} and {targets.shape}")
    if np.uint16 in (sources.dtype, targets.dtype) and sources.dtype != targets.dtype:
        raise Pix2PixError(f"{path}: arr_0 is {sources.dtype}, arr_1 {targets.dtype}; a dataset "
                           f"holds one bit depth, scaled to [-1, 1] by one rule")
    if sources.dtype == np.float32 or targets.dtype == np.float32:
        print(f"note: {path}: float32 images with values 0-255 (as Keras's img_to_array gives "
              f"them), converted to uint8", file=sys.stderr)
        sources, targets = to_uint8(sources), to_uint8(targets)
    return sources, targets


def in_byte_range(array):
    """uint8, or float32 with every value in [0, 255] (NaN is not), and not all in [0, 1]:
    images scaled to [0, 1] are not what img_to_array gives."""
    if array.dtype != np.float32 or array.size == 0:
        return True
    low, high = array.min(), array.max()
    return bool(low >= 0 and 1 < high <= 255)


def to_uint8(images):
    """float32 [0, 255] -> uint8, rounded and clipped, in place (the float array is a copy
    loaded from the file); uint8 as it is."""
    if images.dtype == np.uint8:
        return images
    np.rint(images, out=images)
    return np.clip(images, 0, 255, out=images).astype(np.uint8)


def load_images(folder, size=256):
    """Read every pair image of a folder, resized to `size` (None: their own size, which must
    then be one); a corrupt file is reported by name and skipped, one of another channel count,
    bit depth or size than the first refused."""
    paths = list_images(folder)
    if not paths:
        raise Pix2PixError(f"{folder}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")
    sources, targets, names = [], [], []
    for path in tqdm(paths, desc=f"reading {folder}", unit="image"):
        try:
            source, target = load_pair(path, size)
        except Pix2PixError as e:
            tqdm.write(f"skipping {e}", file=sys.stderr)
            continue
        sources.append(source)
        targets.append(target)
        names.append(path)
    if not sources:
        raise Pix2PixError(f"{folder}: none of its {len(paths)} images could be read")
    # The most channels of any image set the kind, so that 8-bit grayscale pairs among colour
    # ones are widened whatever their order.
    first = max(range(len(sources)), key=lambda i: sources[i].shape[2])
    kind = sources[first]
    for i, path in enumerate(names):
        if sources[i].shape != kind.shape and sources[i].shape[:2] != kind.shape[:2]:
            raise Pix2PixError(f"{path}: {sources[i].shape[1]}x{sources[i].shape[0]} halves, but "
                               f"{names[first]} has {kind.shape[1]}x{kind.shape[0]}; give --size "
                               f"to resize them all, or train from the folder (any sizes)")
        sources[i], targets[i] = (check_alike(image, kind.shape, kind.dtype, path, names[first])
                                  for image in (sources[i], targets[i]))
    return np.stack(sources), np.stack(targets)


# ---------------------------------------------------------------------------------------------
# Batches for training

def random_jitter(source, target, rng):
    """The paper's augmentation of one pair: resize both images to 286/256 of their size, take
    the same random crop of the original size from both, and mirror both half of the time."""
    return preprocess_pair(source, target, Preprocess().for_side(source.shape[0]), rng)


def load_batch(dataset, indices, jitter_seed=None, preprocess=None):
    """The pairs at `indices` as two float batches in [-1, 1], prepared as `preprocess` says
    (its sizes filled in; None: as they are), with random crops and flips if a seed is given."""
    pairs = [dataset[i] for i in indices]
    max_value = preprocess.max_value if preprocess else None
    if preprocess is not None:
        rng = None if jitter_seed is None else np.random.default_rng(jitter_seed)
        pairs = [preprocess_pair(source, target, preprocess, rng, name=pair_name(dataset, i))
                 for (source, target), i in zip(pairs, indices)]
    return (scale_images(np.stack([p[0] for p in pairs]), max_value),
            scale_images(np.stack([p[1] for p in pairs]), max_value))


def pair_name(dataset, i):
    return dataset.paths[i] if hasattr(dataset, "paths") else f"pair {i}"


def iterate_batches(dataset, order, batch_size, first_batch=0, jitter_seed=None, workers=4,
                    preprocess=None):
    """Yield the float batches of `dataset` in `order`, from batch `first_batch` on, prepared
    (as `preprocess` says, see load_batch) ahead by background threads.

    Decoding and resizing (PIL and NumPy release the GIL) overlap with the training step, and
    at most 2 x workers batches wait in memory. Batch b of an epoch is jittered with the seed
    (jitter_seed, b), so a run repeats exactly whatever the threads' timing, and a resumed epoch
    continues with the same crops and flips.
    """
    if preprocess is None and jitter_seed is not None:  # the paper's jitter
        preprocess = Preprocess().for_side(dataset.image_shape[0])
    with ThreadPoolExecutor(workers) as pool:
        pending = collections.deque()
        for b in range(first_batch, len(order) // batch_size):
            seed = None if jitter_seed is None else [jitter_seed, b]
            indices = order[b * batch_size:(b + 1) * batch_size]
            pending.append(pool.submit(load_batch, dataset, indices, seed, preprocess))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
