"""Translating images at their own resolution, as the paper ran its maps model on 512x512 images.

The generator is fully convolutional, but a saved model has a fixed input shape (size, size, channels).
`generator_for_shape` calls the same layers, and so the same trained weights, on another input
shape. A U-Net only fits images whose sides are multiples of its total stride, 2 ** (number of
downsamplings): 256 for the paper's 256x256 generator, whose innermost layer is 1x1. So an image
is padded by reflection up to such a multiple, translated, and cropped back to its own size.

For images too large to translate at once, `translate_tiled` translates overlapping tiles and
blends them with weights that ramp linearly across each overlap, normalized by their sum, so no
seam shows where one tile ends.
"""
import math

import numpy as np

from pix2pix.backend import keras
from pix2pix.data.images import scale_images, unscale_images
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import translate_images


TILE_BATCH = 8  # tiles translated in one call, each with its own statistics in the paper's modes


def generator_stride(g_model):
    """How many pixels the generator's innermost layer steps per position (2 ** number of
    downsamplings): each side of an image it translates must be a multiple of this."""
    size = g_model.input_shape[1]
    sides = [layer.output.shape[1] for layer in g_model.layers
             if len(getattr(layer.output, "shape", ())) == 4]
    return size // min(sides)


_SHAPED = []  # (model, (height, width), rebuilt model), the few most recent
_SHAPED_KEPT = 4


def generator_for_shape(g_model, height, width):
    """The generator for (height, width, 3) images: a new graph through the very same layers, so
    it shares (not copies) the trained weights, and works for a generator of any depth or width.
    Both sides must be multiples of `generator_stride`."""
    stride = generator_stride(g_model)
    if height % stride or width % stride or height <= 0 or width <= 0:
        raise ValueError(f"{height}x{width} is not a multiple of the generator's stride {stride}")
    if (height, width) == tuple(g_model.input_shape[1:3]):
        return g_model
    for model, shape, shaped in _SHAPED:
        if model is g_model and shape == (height, width):
            return shaped
    source = g_model.inputs[0]
    inputs = keras.Input((height, width, source.shape[-1]), dtype=source.dtype, name=source.name)
    shaped = keras.models.clone_model(g_model, input_tensors=inputs,
                                      clone_function=lambda layer: layer)
    _SHAPED.insert(0, (g_model, (height, width), shaped))
    del _SHAPED[_SHAPED_KEPT:]
    return shaped


def pad_to_multiple(image, multiple):
    """Reflect-pad an (h, w, c) array on all sides, as evenly as possible, until both sides are
    multiples of `multiple`; returns (padded, (top, left)) to crop the original back."""
    height, width = image.shape[:2]
    pad_h, pad_w = -height % multiple, -width % multiple
    top, left = pad_h // 2, pad_w // 2
    padded = np.pad(image, ((top, pad_h - top), (left, pad_w - left), (0, 0)), mode="reflect")
    return padded, (top, left)


def check_tile(tile, stride):
    """Refuse a tile size the generator cannot translate, in one line."""
    if tile < stride:
        raise Pix2PixError(f"--tile {tile}: below the generator's stride; tiles must be at least "
                           f"{stride} pixels (a multiple of {stride})")
    if tile % stride:
        raise Pix2PixError(f"--tile {tile}: not a multiple of the generator's stride {stride}; "
                           f"try {tile // stride * stride} or {(tile // stride + 1) * stride}")


def tile_starts(length, tile, overlap):
    """Where tiles of `tile` pixels start along a side of `length` pixels: as few as cover it
    with at least `overlap` pixels shared by neighbours, spread evenly, first and last flush."""
    if length <= tile:
        return [0]
    if not 0 <= overlap < tile:
        raise ValueError(f"the overlap must be from 0 to {tile - 1} pixels, got {overlap}")
    count = math.ceil((length - overlap) / (tile - overlap))
    return [int(round(s)) for s in np.linspace(0, length - tile, count)]


def ramps(starts, tile):
    """One weight vector per tile along a side: 1 inside, rising linearly across the pixels it
    shares with the tile before and falling across those it shares with the tile after, so that
    in an overlap of two tiles the weights sum to one. Never 0, and 1 at the image's borders."""
    weights = []
    for i, start in enumerate(starts):
        w = np.ones(tile)
        n = starts[i - 1] + tile - start if i > 0 else 0  # pixels shared with the previous tile
        if n > 0:
            w[:n] = np.minimum(w[:n], (np.arange(n) + 0.5) / n)
        n = start + tile - starts[i + 1] if i + 1 < len(starts) else 0  # shared with the next
        if n > 0:
            w[tile - n:] = np.minimum(w[tile - n:], (np.arange(n, 0, -1) - 0.5) / n)
        weights.append(w)
    return weights


def tile_windows(height, width, tile_h, tile_w, overlap_h=None, overlap_w=None):
    """The tiles covering a height x width image: a list of (top, left, weights), weights a
    (tile_h, tile_w) array. The tiles' weights sum to one at every pixel of the image."""
    overlap_h = tile_h // 4 if overlap_h is None else overlap_h
    overlap_w = tile_w // 4 if overlap_w is None else overlap_w
    tops, lefts = tile_starts(height, tile_h, overlap_h), tile_starts(width, tile_w, overlap_w)
    windows = [(top, left, wy[:, None] * wx[None, :])
               for top, wy in zip(tops, ramps(tops, tile_h))
               for left, wx in zip(lefts, ramps(lefts, tile_w))]
    total = np.zeros((height, width))
    for top, left, w in windows:
        total[top:top + tile_h, left:left + tile_w] += w
    return [(top, left, w / total[top:top + tile_h, left:left + tile_w])
            for top, left, w in windows]


def blend_tiles(translate, image, tile, overlap=None):
    """Translate an (h, w, c) float image in overlapping tiles of at most tile x tile pixels
    (the image's side where it is smaller) and blend them. `translate` maps a batch of tiles
    (n, th, tw, c) to translated tiles of the same shape."""
    height, width = image.shape[:2]
    tile_h, tile_w = min(tile, height), min(tile, width)
    windows = tile_windows(height, width, tile_h, tile_w, overlap, overlap)
    out = np.zeros(image.shape, np.float32)
    for b in range(0, len(windows), TILE_BATCH):
        batch = windows[b:b + TILE_BATCH]
        tiles = np.stack([image[top:top + tile_h, left:left + tile_w] for top, left, _ in batch])
        for (top, left, w), translated in zip(batch, translate(tiles)):
            out[top:top + tile_h, left:left + tile_w] += w[:, :, None] * translated
    return out


def translate_full_size(g_model, image, mode="paper", tile=None):
    """Translate a float (h, w, 3) image in [-1, 1] at its own size: reflect-padded to the
    generator's stride, translated whole (or in overlapping tiles of at most `tile` pixels, each
    in `mode`, so in the paper's modes with its own BatchNorm statistics), cropped back."""
    image = np.asarray(image, np.float32)
    height, width = image.shape[:2]
    stride = generator_stride(g_model)
    padded, (top, left) = pad_to_multiple(image, stride)

    def translate(tiles):
        shaped = generator_for_shape(g_model, *tiles.shape[1:3])
        return translate_images(shaped, tiles, mode)

    if tile is None:
        out = translate(padded[np.newaxis])[0]
    else:
        check_tile(tile, stride)
        out = blend_tiles(translate, padded, tile)
    return out[top:top + height, left:left + width]


def translate_full_size_pixels(g_model, image, mode="paper", tile=None, max_value=None):
    """`translate_full_size` for a uint8 or uint16 image (h, w, c), as image files hold them,
    the translation of the same type and scale (see `scale_images`)."""
    image = np.asarray(image)
    generated = translate_full_size(g_model, scale_images(image, max_value), mode, tile)
    return unscale_images(generated, image.dtype, max_value)
