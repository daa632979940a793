"""Figures: dataset samples and source / generated / target comparisons."""
import matplotlib


matplotlib.use("Agg")  # files only: no window, works on a machine without a screen
import matplotlib.pyplot as plt  # noqa: E402

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
            ax.imshow(image)
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


def plot_samples(sources, targets, path):
    """Sources on the top row, their targets below."""
    plot_rows([list(sources), list(targets)], path, titles=["Source", "Target"])


def plot_translations(sources, generated, targets, path):
    """Rows of source, generated and target images (one column per pair)."""
    plot_rows([list(sources), list(generated), list(targets)], path,
              titles=["Source", "Generated", "Expected"])
