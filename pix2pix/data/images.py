"""Image files: opening any of them safely, splitting a side-by-side pair, listing a folder.

A pair image holds the source on the left half and the target on the right half, as every
pix2pix dataset does (maps: satellite | map; facades: photo | labels). Pixels are uint8 or uint16
arrays (height, width, channels) in files and datasets, and float32 in [-1, 1], the range of the
generator's tanh output, in the networks: 0 maps to -1 and the top of the range (the type's
largest value, or one the user gives) to 1, one rule for a whole dataset (`scale_images`,
`unscale_images`).
"""
import os
import sys
import warnings

import numpy as np
from PIL import Image, ImageOps
import tifffile
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


def open_image(path):
    """An image file as a uint8 or uint16 array (height, width, channels), upright.

    Grayscale files give 1 channel, 16-bit ones uint16 (kept whole: no rescaling), colour ones
    3 (palette and alpha dropped, as RGB); a TIFF gives the channels it holds (tifffile reads
    any number of them). A colour PNG of 16 bits is refused: Pillow would read it as 8 bits.
    """
    if path.lower().endswith((".tif", ".tiff")):
        return open_tiff(path)
    if png_bit_depth(path) == 16 and png_color_type(path) in (2, 6):
        raise Pix2PixError(f"{path}: a 16-bit colour PNG, which Pillow reads as 8 bits; save it "
                           f"as a 16-bit TIFF to keep its precision")
    image = open_pil(path)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image)
        if array.min() < 0 or array.max() > 65535:
            raise Pix2PixError(f"{path}: 32-bit values outside 0-65535; give 8- or 16-bit images")
        return array.astype(np.uint16)[:, :, None]
    if image.mode in ("1", "L", "LA"):
        return np.asarray(image.convert("L"))[:, :, None]
    return np.asarray(image.convert("RGB"))


def open_tiff(path):
    """A TIFF as (height, width, channels), uint8 or uint16; its size checked before decoding."""
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            axes, shape = series.axes, series.shape
            if np.prod(shape[-3:]) > MAX_IMAGE_PIXELS * 4:
                raise Pix2PixError(f"{path}: refused, a possible decompression bomb ({shape})")
            array = series.asarray()
    except Pix2PixError:
        raise
    except PermissionError:
        raise Pix2PixError(f"{path}: cannot be read (permission denied)") from None
    except Exception as e:  # noqa: BLE001  tifffile raises many kinds for a damaged file
        raise Pix2PixError(f"{path}: not a readable TIFF ({e})") from None
    if array.ndim == 3 and axes[0] in "CSQ" and axes[1:] == "YX":  # planar: channels first
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.dtype not in (np.uint8, np.uint16):
        raise Pix2PixError(f"{path}: a TIFF of {array.dtype} {array.shape} ({axes}); give one "
                           f"image of uint8 or uint16 (height, width[, channels])")
    return array


def png_header(path):
    with open(path, "rb") as f:
        header = f.read(26)
    return header if header[:8] == b"\x89PNG\r\n\x1a\n" and len(header) == 26 else None


def png_bit_depth(path):
    header = png_header(path) if os.path.isfile(path) else None
    return header[24] if header else None


def png_color_type(path):
    header = png_header(path)
    return header[25] if header else None


def open_pil(path):
    """Open an image file with Pillow, upright, refusing decompression bombs (see open_rgb)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                return upright(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise Pix2PixError(f"{path}: refused, a possible decompression bomb ({e})") from None
    except PermissionError:
        raise Pix2PixError(f"{path}: cannot be read (permission denied)") from None
    except Exception as e:  # PIL raises many kinds for a damaged or foreign file
        raise Pix2PixError(f"{path}: not a readable image ({e})") from None


def open_rgb(path):
    """Open any image file as an RGB PIL image (grayscale, RGBA, palette, 16-bit converted),
    turned upright as its EXIF orientation says (a phone photo taken sideways is stored sideways
    with a tag saying how to rotate it). 16-bit values are divided by 257, one rule for every
    image (0-65535 onto 0-255).

    An image whose header declares more than MAX_IMAGE_PIXELS pixels is refused before anything
    is decoded: a few kilobytes of PNG can otherwise unpack into gigabytes.
    """
    image = open_pil(path)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit grayscale: to 8 bits
        array = np.clip(np.asarray(image, dtype=np.float64), 0, 65535)
        image = Image.fromarray((array / 257.0).round().astype(np.uint8))
    return image.convert("RGB")


def upright(image):
    """The image turned as its EXIF orientation tag says; as stored if it has none, or if its
    EXIF block is too damaged to read (the pixels are still good)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001  Pillow raises many kinds for a malformed EXIF block
        return image


def resize_array(array, height, width):
    """A (h, w, c) uint8 or uint16 array resized bicubically to (height, width, c): 8-bit
    grayscale and RGB as PIL resizes them, anything else one channel at a time in float."""
    if array.shape[:2] == (height, width):
        return array
    if array.dtype == np.uint8 and array.shape[2] in (1, 3):
        image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
        return np.asarray(image.resize((width, height), Image.BICUBIC)).reshape(
            height, width, array.shape[2])
    top = np.iinfo(array.dtype).max
    channels = [np.asarray(Image.fromarray(array[:, :, c].astype(np.float32)).resize(
        (width, height), Image.BICUBIC)) for c in range(array.shape[2])]
    return np.clip(np.stack(channels, -1).round(), 0, top).astype(array.dtype)


WARNED_PATHS = set()  # a streamed folder reads each image every epoch: warn only once


def load_pair(path, size=None):
    """Split a side-by-side pair image into (left, right) halves, arrays as `open_image` gives,
    each resized to size x size, or to size = (height, width) (or at their own size, for None).

    An image that is not about twice as wide as tall is still split, with a warning naming it
    (once per process); one too narrow to give two halves is an error.
    """
    image = open_image(path)
    height, width = image.shape[:2]
    if width < 2 or height < 1:
        raise Pix2PixError(f"{path}: {width}x{height} is too small to split into two halves")
    if abs(width / (2 * height) - 1) > ASPECT_TOLERANCE and path not in WARNED_PATHS:
        WARNED_PATHS.add(path)
        tqdm.write(f"warning: {path}: {width}x{height} is not twice as wide as tall; is it a "
                   f"side-by-side pair? Splitting it anyway", file=sys.stderr)
    half = width // 2
    left, right = image[:, :half], image[:, half:2 * half]
    if size is None:
        return left, right
    height, width = (size, size) if isinstance(size, int) else size
    return resize_array(left, height, width), resize_array(right, height, width)


def list_images(folder):
    if os.path.isfile(folder):
        raise Pix2PixError(f"{folder}: is a file; give a folder of images")
    if not os.path.isdir(folder):
        raise Pix2PixError(f"{folder}: no such folder")
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    paths = [os.path.join(folder, n) for n in names]
    return [p for p in paths if os.path.isfile(p)]


def top_value(dtype, max_value=None):
    """The value that maps to 1: `max_value` if given, else the largest of the type."""
    return float(max_value or np.iinfo(dtype).max)


def scale_images(images, max_value=None):
    """uint8 or uint16 [0, top] -> float32 [-1, 1], the range of the generator's tanh output;
    top is `max_value`, or the type's largest value (255, 65535)."""
    # Divided by half the top, as before 16-bit data came: uint8 batches keep their exact values.
    return images.astype(np.float32) / (top_value(images.dtype, max_value) / 2) - 1.0


def unscale_images(images, dtype=np.uint8, max_value=None):
    """float [-1, 1] -> `dtype` [0, top], rounded (the inverse of `scale_images`)."""
    top = top_value(dtype, max_value)
    return np.clip((np.asarray(images) + 1.0) * (top / 2), 0, top).round().astype(dtype)


def three_channels(images):
    """A batch (n, h, w, c) with 3 channels, for viewers that show only 1, 3 or 4: 1 repeated,
    2 with a third at the range's low end, more than 3 by their first three."""
    if images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    if images.shape[-1] == 2:
        return np.concatenate([images, np.full_like(images[..., :1], images.min())], axis=-1)
    return images[..., :3]


def save_image(array, path):
    """Write a (h, w, c) uint8 or uint16 array, atomically: 8-bit grayscale or RGB in any
    format, 16-bit grayscale as PNG or TIFF, anything else (16-bit colour, other channel
    counts) as TIFF only."""
    tiff = path.lower().endswith((".tif", ".tiff"))
    grayscale = array.shape[2] == 1
    if array.dtype == np.uint16 and grayscale and not (tiff or path.lower().endswith(".png")):
        raise Pix2PixError(f"{path}: 16-bit images are written as PNG or TIFF; give a .png or "
                           f".tif output")
    if not (tiff or grayscale or (array.shape[2] == 3 and array.dtype == np.uint8)):
        raise Pix2PixError(f"{path}: {array.shape[2]}-channel {array.dtype} images are written "
                           f"as TIFF; give a .tif output")
    with atomic_path(path) as tmp:
        if tiff:
            rgb = array.shape[2] == 3
            tifffile.imwrite(tmp, array, photometric="rgb" if rgb else "minisblack",
                             planarconfig="contig")
        else:
            Image.fromarray(array[:, :, 0] if grayscale else array).save(tmp)
