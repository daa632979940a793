"""The built-in synthetic dataset: aerial views of random towns and their maps, drawn offline.

Each pair shows one random town plan (a lake, parks, blocks, roads) twice: as a blurred,
grainy aerial photo (the source) and as a clean map (the target), a small stand-in for the
maps dataset that needs no download.
"""
from PIL import Image, ImageDraw, ImageFilter
import numpy as np


# Map-style colours (target) and aerial-style colours (source) of each kind of ground.
MAP_COLOURS = {"land": (242, 239, 233), "water": (170, 211, 223), "park": (200, 250, 204),
               "block": (217, 208, 201), "road": (255, 255, 255), "main road": (247, 200, 120)}
AERIAL_COLOURS = {"land": (125, 120, 80), "water": (30, 60, 110), "park": (40, 105, 40),
                  "block": (190, 175, 165), "road": (80, 80, 90), "main road": (35, 35, 40)}


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


def synthetic_pair(rng, size, aerial_colours=AERIAL_COLOURS):
    """One (aerial, map) pair of the same random town, as uint8 arrays."""
    shapes = draw_layout(rng, size)
    map_image = np.asarray(render(shapes, size, MAP_COLOURS), dtype=np.uint8)
    aerial = render(shapes, size, aerial_colours, jitter=12, rng=rng)
    aerial = np.asarray(aerial.filter(ImageFilter.GaussianBlur(0.6 * size / 64)), dtype=np.float32)
    aerial += rng.normal(0, 10, aerial.shape)  # grain and texture
    return np.clip(aerial, 0, 255).astype(np.uint8), map_image


def synthetic_dataset(n, size=256, seed=0, aerial_colours=AERIAL_COLOURS):
    """n pairs of the synthetic aerial-to-map task; the same n, size, seed and colours give the
    same data."""
    rng = np.random.default_rng(seed)
    pairs = [synthetic_pair(rng, size, aerial_colours) for _ in range(n)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
