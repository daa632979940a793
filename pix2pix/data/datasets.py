"""The training data: pairs of uint8 images from an npz file or a folder, and their batches.

A dataset gives its pairs by index, (source, target), each uint8 (size, size, 3): `PairArrays`
holds them in memory, `PairFolder` reads each from its side-by-side image when asked for it.
An npz file holds two arrays, uint8 (N, size, size, 3): `arr_0` the sources and `arr_1` the
targets (float32 arrays of values 0-255, as Keras's `img_to_array` gives them, are converted
on loading). Pairs are scaled to [-1, 1] one batch at a time (`load_batch`), since the float32
copy of maps would be 1.7 GB.
"""
import collections
from concurrent.futures import ThreadPoolExecutor
import copy
import os
import sys
import zipfile

from PIL import Image
import numpy as np
from tqdm import tqdm

from pix2pix.data.images import IMAGE_EXTENSIONS, list_images, load_pair, resize, scale_images
from pix2pix.errors import Pix2PixError


def load_dataset(path, size=256, in_memory=False):
    """The pairs of an npz file or of a folder of side-by-side images, as a dataset.

    An npz file is held in memory, at the size its images have. A folder's images are resized
    to `size`; by default each is read when it is asked for, so that training on any number of
    them keeps memory flat. With `in_memory` the folder is read whole, its damaged images named
    and skipped: for evaluation, which translates every pair.
    """
    if not os.path.isdir(path):
        return PairArrays(*read_npz(path))
    if in_memory:
        return PairArrays(*load_images(path, size))
    return PairFolder(path, size)


class PairArrays:
    """Pairs held in memory as two uint8 arrays."""

    def __init__(self, sources, targets):
        self.sources, self.targets = sources, targets
        self.image_shape = sources.shape[1:]

    def __len__(self):
        return len(self.sources)

    def __getitem__(self, i):
        return self.sources[i], self.targets[i]

    def reversed(self):
        return PairArrays(self.targets, self.sources)


class PairFolder:
    """Pairs read from a folder of side-by-side images when asked for: memory stays flat
    whatever the number of images. Each image is split and resized to `size` on reading."""

    def __init__(self, folder, size=256):
        self.paths = list_images(folder)
        if not self.paths:
            raise Pix2PixError(f"{folder}: no images found")
        self.size, self.reverse = size, False
        self.image_shape = (size, size, 3)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        source, target = load_pair(self.paths[i], self.size)
        return (target, source) if self.reverse else (source, target)

    def reversed(self):
        other = copy.copy(self)
        other.reverse = not self.reverse
        return other


# ---------------------------------------------------------------------------------------------
# Reading npz files and folders

def read_npz(path):
    """Load the training arrays of an npz file: (sources, targets), uint8, (N, size, size, 3).

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
        if array.dtype not in (np.uint8, np.float32) or array.ndim != 4 or array.shape[3] != 3 \
                or array.shape[1] != array.shape[2] or not in_byte_range(array):
            found = f"{array.dtype} {array.shape}"
            if array.dtype == np.float32 and array.size:
                found += f" with values from {array.min():g} to {array.max():g}"
            raise Pix2PixError(f"{path}: {name} must be uint8 images of shape (N, size, size, 3) "
                               f"(or float32 with values 0-255, as keras img_to_array gives), "
                               f"found {found}")
    if sources.shape != targets.shape or len(sources) == 0:
        raise Pix2PixError(f"{path}: arr_0 and arr_1 must hold the same number (> 0) of same-sized "
                           f"images, found {sources.shape} and {targets.shape}")
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
    """Read every pair image of a folder; a corrupt file is reported by name and skipped."""
    paths = list_images(folder)
    if not paths:
        raise Pix2PixError(f"{folder}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")
    sources, targets = [], []
    for path in tqdm(paths, desc=f"reading {folder}", unit="image"):
        try:
            source, target = load_pair(path, size)
        except Pix2PixError as e:
            tqdm.write(f"skipping {e}", file=sys.stderr)
            continue
        sources.append(source)
        targets.append(target)
    if not sources:
        raise Pix2PixError(f"{folder}: none of its {len(paths)} images could be read")
    return np.stack(sources), np.stack(targets)


# ---------------------------------------------------------------------------------------------
# Batches for training

def random_jitter(source, target, rng):
    """The paper's augmentation of one pair: resize both images to 286/256 of their size, take
    the same random crop of the original size from both, and mirror both half of the time."""
    size = source.shape[0]
    big = size * 286 // 256
    top, left = rng.integers(0, big - size + 1, size=2)
    flip = rng.random() < 0.5
    out = []
    for image in (source, target):
        image = resize(Image.fromarray(image), big)[top:top + size, left:left + size]
        out.append(image[:, ::-1] if flip else image)
    return out[0], out[1]


def load_batch(dataset, indices, jitter_seed=None):
    """The pairs at `indices` as two float batches in [-1, 1], jittered if a seed is given."""
    pairs = [dataset[i] for i in indices]
    if jitter_seed is not None:
        rng = np.random.default_rng(jitter_seed)
        pairs = [random_jitter(source, target, rng) for source, target in pairs]
    return (scale_images(np.stack([p[0] for p in pairs])),
            scale_images(np.stack([p[1] for p in pairs])))


def iterate_batches(dataset, order, batch_size, first_batch=0, jitter_seed=None, workers=4):
    """Yield the float batches of `dataset` in `order`, from batch `first_batch` on, prepared
    ahead by background threads.

    Decoding and resizing (PIL and NumPy release the GIL) overlap with the training step, and
    at most 2 x workers batches wait in memory. Batch b of an epoch is jittered with the seed
    (jitter_seed, b), so a run repeats exactly whatever the threads' timing, and a resumed epoch
    continues with the same crops and flips.
    """
    with ThreadPoolExecutor(workers) as pool:
        pending = collections.deque()
        for b in range(first_batch, len(order) // batch_size):
            seed = None if jitter_seed is None else [jitter_seed, b]
            indices = order[b * batch_size:(b + 1) * batch_size]
            pending.append(pool.submit(load_batch, dataset, indices, seed))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

