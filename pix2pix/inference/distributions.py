"""How close the distribution of a set of results is to that of the real images, whatever the pairs.

- `hist L`, `hist a`, `hist b`: the paper's colour test (Isola et al. 2017, Figure 7 and its
  table): the intersection sum(min(p, q)) of the histograms of L, a and b in Lab of all the
  results' pixels, p, and of all the real images' pixels, q, each normalised to sum to 1; 1 when
  the two distributions are the same, 0 when they share no bin. The paper does not give its bins:
  these are 1 unit wide (100 for L in [0, 100], 256 for a and b in [-128, 128]).
- `fid`: the Frechet distance between Gaussians fitted to two sets of features (Heusel et al. 2017);
- `kid`: the unbiased estimate of the squared maximum mean discrepancy between two sets of
  features with the polynomial kernel (x.y / d + 1)^3 (Binkowski et al. 2018), on whole sets.
Both on 3-channel RGB images only (see `check_rgb`).
"""
import numpy as np
from scipy import linalg
from skimage.color import rgb2lab

from pix2pix.errors import Pix2PixError

LAB_RANGES = {"L": (0, 100), "a": (-128, 128), "b": (-128, 128)}  # unit-wide bins


def check_rgb(image_shape, what):
    """Refuse images of other than 3 channels, in one line."""
    if image_shape[-1] != 3:
        raise Pix2PixError(f"{what} compare RGB images, these have {image_shape[-1]} channel(s)")


def lab_histograms(images):
    """Counts of the L, a and b values of uint8 RGB images (..., 3): {channel: counts}."""
    lab = rgb2lab(images).reshape(-1, 3)
    return {channel: np.histogram(lab[:, c], bins=high - low, range=(low, high))[0]
            for c, (channel, (low, high)) in enumerate(LAB_RANGES.items())}


def add_counts(total, counts):
    """The sum of two sets of histograms; `total` may be None (none counted yet)."""
    return counts if total is None else {c: total[c] + counts[c] for c in counts}


def histogram_intersections(generated_counts, real_counts):
    """{"hist L": ..., "hist a": ..., "hist b": ...}, each in [0, 1], 1 for equal histograms."""
    return {f"hist {c}": float(np.minimum(generated_counts[c] / generated_counts[c].sum(),
                                          real_counts[c] / real_counts[c].sum()).sum())
            for c in LAB_RANGES}


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)) of two Gaussians."""
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():  # a singular product: offset the diagonals, as pytorch-fid
        offset = np.eye(len(sigma1)) * 1e-6
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * np.trace(covmean.real))


def fid(features1, features2):
    """The Frechet distance of Gaussians fitted to two sets of features (N, d), N >= 2."""
    f1, f2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    return frechet_distance(f1.mean(axis=0), np.cov(f1, rowvar=False),
                            f2.mean(axis=0), np.cov(f2, rowvar=False))


def kid(features1, features2):
    """The unbiased squared MMD of two sets of features (N, d), N >= 2, with Binkowski et al.'s
    kernel (x.y / d + 1)^3. It can be slightly negative when the distributions are equal."""
    x, y = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    d, m, n = x.shape[1], len(x), len(y)
    kxx, kyy, kxy = [(a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y))]
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())
