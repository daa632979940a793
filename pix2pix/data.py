"""Paired datasets: reading side-by-side images, the npz training arrays, downloads, and a
built-in synthetic set.

A pair image holds the source on the left half and the target on the right half, as every
pix2pix dataset does (maps: satellite | map; facades: photo | labels). The training arrays are
kept as uint8, (N, size, size, 3): `arr_0` the sources and `arr_1` the targets (float32 arrays
of values 0-255, as the seed tutorial's code saves them, are converted on loading). They are
scaled to [-1, 1] one batch at a time (`scale_images`), since the float32 copy of maps would be
1.7 GB.
"""
import collections
import copy
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
import warnings
import zipfile

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps
from tqdm import tqdm

from pix2pix.errors import Pix2PixError
from pix2pix.storage import atomic_path

# Refuse to decode more pixels than this (PIL warns at this many and refuses at twice as many;
# both are errors here): 2**27 is 11585x11585, far above any pix2pix dataset's images.
MAX_IMAGE_PIXELS = 2 ** 27
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# A pair image should be twice as wide as tall; further off than this and we warn.
ASPECT_TOLERANCE = 0.1
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
DATASETS_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets"
DATASETS = ("maps", "facades", "cityscapes", "edges2shoes", "edges2handbags", "night2day")


# ---------------------------------------------------------------------------------------------
# Images

def open_rgb(path):
    """Open any image file as an RGB PIL image (grayscale, RGBA, palette, 16-bit converted),
    turned upright as its EXIF orientation says (a phone photo taken sideways is stored sideways
    with a tag saying how to rotate it).

    An image whose header declares more than MAX_IMAGE_PIXELS pixels is refused before anything
    is decoded: a few kilobytes of PNG can otherwise unpack into gigabytes.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                image = upright(image)
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit grayscale: to 8 bits
                array = np.asarray(image, dtype=np.float64)
                top = 65535.0 if array.max() > 255 else 255.0
                image = Image.fromarray((array * 255.0 / top).round().astype(np.uint8))
            return image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise Pix2PixError(f"{path}: refused, a possible decompression bomb ({e})") from None
    except PermissionError:
        raise Pix2PixError(f"{path}: cannot be read (permission denied)") from None
    except Exception as e:  # PIL raises many kinds for a damaged or foreign file
        raise Pix2PixError(f"{path}: not a readable image ({e})") from None


def upright(image):
    """The image turned as its EXIF orientation tag says; as stored if it has none, or if its
    EXIF block is too damaged to read (the pixels are still good)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001  Pillow raises many kinds for a malformed EXIF block
        return image


def resize(image, size):
    # Bicubic, as the authors' code resizes.
    return np.asarray(image.resize((size, size), Image.BICUBIC), dtype=np.uint8)


WARNED_PATHS = set()  # a streamed folder reads each image every epoch: warn only once


def load_pair(path, size):
    """Split a side-by-side pair image into (left, right) halves, each resized to size x size.

    An image that is not about twice as wide as tall is still split, with a warning naming it
    (once per process); one too narrow to give two halves is an error.
    """
    image = open_rgb(path)
    width, height = image.size
    if width < 2 or height < 1:
        raise Pix2PixError(f"{path}: {width}x{height} is too small to split into two halves")
    if abs(width / (2 * height) - 1) > ASPECT_TOLERANCE and path not in WARNED_PATHS:
        WARNED_PATHS.add(path)
        tqdm.write(f"warning: {path}: {width}x{height} is not twice as wide as tall; is it a "
                   f"side-by-side pair? Splitting it anyway", file=sys.stderr)
    half = width // 2
    left = image.crop((0, 0, half, height))
    right = image.crop((half, 0, 2 * half, height))
    return resize(left, size), resize(right, size)


def list_images(folder):
    if os.path.isfile(folder):
        raise Pix2PixError(f"{folder}: is a file; give a folder of images")
    if not os.path.isdir(folder):
        raise Pix2PixError(f"{folder}: no such folder")
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    paths = [os.path.join(folder, n) for n in names]
    return [p for p in paths if os.path.isfile(p)]


def load_images(folder, size=256):
    """Read every pair image of a folder; a corrupt file is reported by name and skipped."""
    paths = list_images(folder)
    if not paths:
        raise Pix2PixError(f"{folder}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")
    src_list, tar_list = [], []
    for path in tqdm(paths, desc=f"reading {folder}", unit="image"):
        try:
            src, tar = load_pair(path, size)
        except Pix2PixError as e:
            tqdm.write(f"skipping {e}", file=sys.stderr)
            continue
        src_list.append(src)
        tar_list.append(tar)
    if not src_list:
        raise Pix2PixError(f"{folder}: none of its {len(paths)} images could be read")
    return np.stack(src_list), np.stack(tar_list)


# ---------------------------------------------------------------------------------------------
# Training arrays

def save_dataset(path, src_images, tar_images):
    """Write the pairs as a compressed npz (arr_0 = sources, arr_1 = targets), atomically."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, src_images, tar_images)


def load_real_samples(path):
    """Load the training arrays of an npz file: (sources, targets), uint8, (N, size, size, 3).

    float32 arrays of values 0-255, as the seed tutorial's code saves them (keras img_to_array),
    are rounded to uint8, with a one-line note on stderr; anything else is refused."""
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
            src, tar = data["arr_0"], data["arr_1"]
    except Pix2PixError:
        raise
    except zipfile.BadZipFile as e:
        raise Pix2PixError(f"{path}: damaged or truncated npz file ({e})") from None
    except Exception as e:  # format errors all mean the same thing to the user, but one
        if isinstance(e, ValueError) and "pickle" in str(e):
            raise Pix2PixError(f"{path}: holds Python objects, which are never loaded (unpickling "
                               f"can run any code); a dataset holds uint8 image arrays") from None
        raise Pix2PixError(f"{path}: not a readable npz file ({e})") from None
    for name, array in (("arr_0", src), ("arr_1", tar)):
        if array.dtype not in (np.uint8, np.float32) or array.ndim != 4 or array.shape[3] != 3 \
                or array.shape[1] != array.shape[2] or not in_byte_range(array):
            found = f"{array.dtype} {array.shape}"
            if array.dtype == np.float32 and array.size:
                found += f" with values from {array.min():g} to {array.max():g}"
            raise Pix2PixError(f"{path}: {name} must be uint8 images of shape (N, size, size, 3) "
                               f"(or float32 with values 0-255, as keras img_to_array gives), "
                               f"found {found}")
    if src.shape != tar.shape or len(src) == 0:
        raise Pix2PixError(f"{path}: arr_0 and arr_1 must hold the same number (> 0) of same-sized "
                           f"images, found {src.shape} and {tar.shape}")
    if src.dtype == np.float32 or tar.dtype == np.float32:
        print(f"note: {path}: float32 images with values 0-255 (as the tutorial's code saves "
              f"them), converted to uint8", file=sys.stderr)
        src, tar = to_uint8(src), to_uint8(tar)
    return src, tar


def in_byte_range(array):
    """uint8, or float32 with every value in [0, 255] (NaN is not), and not all in [0, 1]:
    images scaled to [0, 1] are not what the tutorial's code saves."""
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


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1], the range of the generator's tanh output."""
    return images.astype(np.float32) / 127.5 - 1.0


def unscale_images(images):
    """float [-1, 1] -> uint8 [0, 255]."""
    return np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Datasets for training: pairs by index, from memory or streamed from a folder

class PairArrays:
    """Pairs held in memory as uint8 arrays (from an npz)."""

    def __init__(self, src_images, tar_images):
        self.src_images, self.tar_images = src_images, tar_images
        self.image_shape = src_images.shape[1:]

    def __len__(self):
        return len(self.src_images)

    def __getitem__(self, i):
        return self.src_images[i], self.tar_images[i]

    def reversed(self):
        return PairArrays(self.tar_images, self.src_images)


class PairFolder:
    """Pairs read from a folder of side-by-side images when asked for: memory stays flat
    whatever the number of images. Each image is split and resized to `size` on reading."""

    def __init__(self, folder, size=256, reverse=False):
        self.paths = list_images(folder)
        if not self.paths:
            raise Pix2PixError(f"{folder}: no images found")
        self.size, self.reverse = size, reverse
        self.image_shape = (size, size, 3)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        src, tar = load_pair(self.paths[i], self.size)
        return (tar, src) if self.reverse else (src, tar)

    def reversed(self):
        other = copy.copy(self)
        other.reverse = not self.reverse
        return other


def load_dataset(path, size=256):
    """An npz file (held in memory) or a folder of pair images (streamed) as a dataset."""
    if os.path.isdir(path):
        return PairFolder(path, size)
    return PairArrays(*load_real_samples(path))


def random_jitter(src, tar, rng):
    """The paper's augmentation of one pair: resize both images to 286/256 of their size, take
    the same random crop of the original size from both, and mirror both half of the time."""
    size = src.shape[0]
    big = size * 286 // 256
    top, left = rng.integers(0, big - size + 1, size=2)
    flip = rng.random() < 0.5
    out = []
    for image in (src, tar):
        image = resize(Image.fromarray(image), big)[top:top + size, left:left + size]
        out.append(image[:, ::-1] if flip else image)
    return out[0], out[1]


def load_batch(dataset, indices, jitter_seed=None):
    """The pairs at `indices` as two float batches in [-1, 1], jittered if a seed is given."""
    pairs = [dataset[i] for i in indices]
    if jitter_seed is not None:
        rng = np.random.default_rng(jitter_seed)
        pairs = [random_jitter(src, tar, rng) for src, tar in pairs]
    return (scale_images(np.stack([p[0] for p in pairs])),
            scale_images(np.stack([p[1] for p in pairs])))


def iterate_batches(dataset, order, n_batch, first_batch=0, jitter_seed=None, workers=4):
    """Yield the float batches of `dataset` in `order`, from batch `first_batch` on, prepared
    ahead by background threads.

    Decoding and resizing (PIL and NumPy release the GIL) overlap with the training step, and
    at most 2 x workers batches wait in memory. Batch b of an epoch is jittered with the seed
    (jitter_seed, b), so a run repeats exactly whatever the threads' timing, and a resumed epoch
    continues with the same crops and flips.
    """
    with ThreadPoolExecutor(workers) as pool:
        pending = collections.deque()
        for b in range(first_batch, len(order) // n_batch):
            seed = None if jitter_seed is None else [jitter_seed, b]
            pending.append(pool.submit(load_batch, dataset, order[b * n_batch:(b + 1) * n_batch],
                                       seed))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def combine_folders(a_dir, b_dir, out_dir):
    """Join same-named images of two folders side by side (A left, B right) into out_dir.

    For data kept as two folders of single images; B is resized to A's size if they differ.
    Returns the number of pairs written; names found in only one folder are reported.
    """
    a_names = {os.path.basename(p): p for p in list_images(a_dir)}
    b_names = {os.path.basename(p): p for p in list_images(b_dir)}
    common = sorted(a_names.keys() & b_names.keys())
    if not common:
        raise Pix2PixError(f"{a_dir} and {b_dir} have no image names in common")
    for name in sorted(a_names.keys() ^ b_names.keys()):
        print(f"skipping {name}: not in both folders", file=sys.stderr)
    os.makedirs(out_dir, exist_ok=True)
    for name in tqdm(common, desc="combining", unit="pair"):
        a, b = open_rgb(a_names[name]), open_rgb(b_names[name])
        b = b.resize(a.size, Image.BICUBIC)
        pair = Image.new("RGB", (2 * a.width, a.height))
        pair.paste(a, (0, 0))
        pair.paste(b, (a.width, 0))
        out = os.path.join(out_dir, os.path.splitext(name)[0] + ".png")
        with atomic_path(out) as tmp:
            pair.save(tmp)
    return len(common)


# ---------------------------------------------------------------------------------------------
# Downloads

def download(url, path):
    """Download `url` to `path` with a progress bar; `path` only appears once complete."""
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as e:
        raise Pix2PixError(f"{url}: download failed (HTTP {e.code} {e.reason})") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise Pix2PixError(f"{url}: cannot download ({reason}); are you online?") from None
    total = int(response.headers.get("Content-Length") or 0) or None
    with response, atomic_path(path) as tmp, open(tmp, "wb") as out, \
            tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(path)) as bar:
        while chunk := response.read(1 << 20):
            out.write(chunk)
            bar.update(len(chunk))
        if total is not None and bar.n != total:
            raise Pix2PixError(f"{url}: download cut off after {bar.n} of {total} bytes")


def download_dataset(name, data_dir="data", base_url=DATASETS_URL):
    """Fetch and unpack `<base_url>/<name>.tar.gz` into `<data_dir>/<name>/`; return that folder.

    The archive is unpacked in a temporary folder and moved into place whole, so a folder
    `<data_dir>/<name>` only ever exists complete. An existing one is kept.
    """
    target = os.path.join(data_dir, name)
    if os.path.isdir(target):
        print(f"{target} already exists; not downloading it again")
        return target
    os.makedirs(data_dir, exist_ok=True)
    archive = os.path.join(data_dir, f"{name}.tar.gz")
    download(f"{base_url.rstrip('/')}/{name}.tar.gz", archive)
    tmp = tempfile.mkdtemp(dir=data_dir, prefix=f".{name}.")
    try:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as e:
            raise Pix2PixError(f"{archive}: not a valid tar.gz archive ({e})") from None
        # The published archives hold one top folder named after the dataset.
        unpacked = os.path.join(tmp, name)
        os.rename(unpacked if os.path.isdir(unpacked) else tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os.remove(archive)
    return target


# ---------------------------------------------------------------------------------------------
# The built-in synthetic dataset

# Map-style colours (target) and aerial-style colours (source) of each kind of ground.
MAP_COLOURS = {"land": (242, 239, 233), "water": (170, 211, 223), "park": (200, 250, 204),
               "block": (217, 208, 201), "road": (255, 255, 255), "main road": (247, 200, 120)}
AERIAL_COLOURS = {"land": (120, 115, 90), "water": (30, 60, 90), "park": (45, 90, 40),
                  "block": (150, 140, 130), "road": (70, 70, 75), "main road": (95, 90, 85)}


def draw_layout(rng, size):
    """A random town plan: a list of (kind, shape, xy) drawing commands in pixels."""
    s = size / 64.0  # feature sizes scale with the image
    shapes = []
    if rng.random() < 0.6:  # a lake or a river bend
        cx, cy, r = rng.uniform(0, size, 2).tolist() + [rng.uniform(8, 20) * s]
        shapes.append(("water", "ellipse", [cx - r, cy - r * 0.7, cx + r, cy + r * 0.7]))
    for _ in range(rng.integers(1, 4)):
        x, y = rng.uniform(-8 * s, size, 2)
        w, h = rng.uniform(8 * s, 22 * s, 2)
        shapes.append(("park", "rectangle", [x, y, x + w, y + h]))
    for _ in range(rng.integers(4, 12)):
        x, y = rng.uniform(0, size, 2)
        w, h = rng.uniform(3 * s, 9 * s, 2)
        shapes.append(("block", "rectangle", [x, y, x + w, y + h]))
    for kind, count, width in (("road", rng.integers(2, 5), 2), ("main road", 1, 3)):
        for _ in range(count):
            p = rng.uniform(0, size)
            line = [p, 0, p, size] if rng.random() < 0.5 else [0, p, size, p]
            shapes.append((kind, "line", (line, max(1, round(width * s)))))
    return shapes


def render(shapes, size, colours, jitter=None, rng=None):
    image = Image.new("RGB", (size, size), colours["land"])
    draw = ImageDraw.Draw(image)
    for kind, shape, xy in shapes:
        colour = colours[kind]
        if jitter:  # each aerial roof, field or road has a slightly different shade
            shade = np.clip(np.array(colour) + rng.normal(0, jitter, 3), 0, 255)
            colour = tuple(int(c) for c in shade)
        if shape == "line":
            draw.line(xy[0], fill=colour, width=xy[1])
        else:
            getattr(draw, shape)(xy, fill=colour)
    return image


def synthetic_pair(rng, size):
    """One (aerial, map) pair of the same random town, as uint8 arrays."""
    shapes = draw_layout(rng, size)
    map_image = np.asarray(render(shapes, size, MAP_COLOURS), dtype=np.uint8)
    aerial = render(shapes, size, AERIAL_COLOURS, jitter=12, rng=rng)
    aerial = np.asarray(aerial.filter(ImageFilter.GaussianBlur(0.6 * size / 64)), dtype=np.float32)
    aerial += rng.normal(0, 10, aerial.shape)  # grain and texture
    return np.clip(aerial, 0, 255).astype(np.uint8), map_image


def synthetic_dataset(n, size=256, seed=0):
    """n pairs of the synthetic aerial-to-map task; the same n, size and seed give the same data."""
    rng = np.random.default_rng(seed)
    pairs = [synthetic_pair(rng, size) for _ in range(n)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
