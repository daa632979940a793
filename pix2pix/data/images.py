"""Image files: opening any of them safely, splitting a side-by-side pair, listing a folder.

A pair image holds the source on the left half and the target on the right half, as every
pix2pix dataset does (maps: satellite | map; facades: photo | labels). Pixels are uint8 in files
and datasets, and float32 in [-1, 1], the range of the generator's tanh output, in the networks
(`scale_images`, `unscale_images`).
"""
import os
import sys
import warnings

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from pix2pix.errors import Pix2PixError

# Refuse to decode more pixels than this (PIL warns at this many and refuses at twice as many;
# both are errors here): 2**27 is 11585x11585, far above any pix2pix dataset's images.
MAX_IMAGE_PIXELS = 2 ** 27
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# A pair image should be twice as wide as tall; further off than this and we warn.
ASPECT_TOLERANCE = 0.1
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


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


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1], the range of the generator's tanh output."""
    return images.astype(np.float32) / 127.5 - 1.0


def unscale_images(images):
    """float [-1, 1] -> uint8 [0, 255]."""
    return np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)

