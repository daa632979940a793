"""Figures: dataset samples and source / generated / target comparisons."""
import matplotlib
import numpy as np


matplotlib.use("Agg")  # files only: no window, works on a machine without a screen
import matplotlib.pyplot as plt  # noqa: E402

from pix2pix.data.colorization import pair_to_photo  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402


# The file types a plot can be saved as (matplotlib picks the format from the extension).
PLOT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".pdf", ".svg")


def plot_rows(rows, path, titles=None):
    """Save a grid of uint8 images, one list per row; `titles` names the rows (left of each row)."""
    n_rows, n_cols = len(rows), len(rows[0])
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.2 * n_cols, 2.2 * n_rows), squeeze=False)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            ax = axes[r][c]
            image = shown(image)
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if titles and c == 0 and n_cols > 1:
                ax.set_ylabel(titles[r])
            elif titles and n_cols == 1:
                ax.set_title(titles[r])
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def shown(image):
    """A (h, w, c) uint8 or uint16 image as matplotlib shows it: 8 bits (16-bit values / 257),
    1 channel as grayscale, 2 with a third of zeros, more than 3 by their first three."""
    if image.dtype == np.uint16:
        image = (image / 257).round().astype(np.uint8)
    if image.shape[2] == 1:
        return image[:, :, 0]
    if image.shape[2] == 2:
        return np.concatenate([image, np.zeros_like(image[:, :, :1])], axis=-1)
    return image[:, :, :3]


def as_photos(lightness, abs_):
    """Colorization pairs: L and ab back into RGB photos, one per image."""
    return [pair_to_photo(l, ab) for l, ab in zip(lightness, abs_)]


def plot_samples(sources, targets, path, colorization=False):
    """Sources on the top row, their targets below (for colorization, the photos)."""
    targets = as_photos(sources, targets) if colorization else list(targets)
    plot_rows([list(sources), targets], path, titles=["Source", "Target"])


def plot_translations(sources, generated, targets, path, colorization=False):
    """Rows of source, generated and target images (one column per pair); for colorization,
    L and each ab turned back into RGB."""
    if colorization:
        generated, targets = as_photos(sources, generated), as_photos(sources, targets)
    plot_rows([list(sources), list(generated), list(targets)], path,
              titles=["Source", "Generated", "Expected"])
