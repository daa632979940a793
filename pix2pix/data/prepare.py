"""Preparing datasets: downloading the published ones, joining two folders into pairs, and
writing the npz arrays that training reads (pix2pix.data.datasets)."""
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

from PIL import Image
import numpy as np
from tqdm import tqdm

from pix2pix.data.colorization import photo_to_pair
from pix2pix.data.images import list_images, open_rgb, resize_array
from pix2pix.errors import Pix2PixError
from pix2pix.storage import atomic_path


DATASETS_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets"
DATASETS = ("maps", "facades", "cityscapes", "edges2shoes", "edges2handbags", "night2day")


def save_dataset(path, sources, targets, colorization=False):
    """Write the pairs as a compressed npz (arr_0 = sources, arr_1 = targets, and for L-to-ab
    pairs a marker array `colorization`), atomically."""
    marker = {"colorization": np.ones(1, bool)} if colorization else {}
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, sources, targets, **marker)


def colorization_pairs(folder, size=None):
    """L-to-ab pairs (pix2pix/data/colorization.py) of the colour photos in `folder`, each
    resized to size x size (None: their own size, which must then be one); an unreadable photo
    is named and skipped."""
    paths = list_images(folder)
    if not paths:
        raise Pix2PixError(f"{folder}: no images found")
    sources, targets = [], []
    for path in tqdm(paths, desc=f"reading {folder}", unit="photo"):
        try:
            photo = np.asarray(open_rgb(path))
        except Pix2PixError as e:
            tqdm.write(f"skipping {e}", file=sys.stderr)
            continue
        if size is not None:
            photo = resize_array(photo, size, size)
        if sources and photo.shape[:2] != sources[0].shape[:2]:
            raise Pix2PixError(f"{path}: {photo.shape[1]}x{photo.shape[0]}, but the first photo "
                               f"is {sources[0].shape[1]}x{sources[0].shape[0]}; give --size "
                               f"to resize them all")
        lightness, ab = photo_to_pair(photo)
        sources.append(lightness)
        targets.append(ab)
    if not sources:
        raise Pix2PixError(f"{folder}: none of its {len(paths)} images could be read")
    return np.stack(sources), np.stack(targets)


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
