"""The field's metrics against values known by hand or in closed form: Wang et al.'s SSIM, the
paper's colour histograms, FID and KID."""
import numpy as np
import pytest
import tensorflow as tf

from pix2pix.errors import Pix2PixError
from pix2pix.inference.distributions import (add_counts, check_rgb, fid, frechet_distance,
                                             histogram_intersections, kid, lab_histograms)
from pix2pix.inference.metrics import image_scores, ssim_gaussian

C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def test_ssim_gaussian_equals_tf_image_ssim(rng):
    # Smooth images (8x8 blocks) and noise: the two windows give different structure terms.
    targets = rng.integers(0, 256, (3, 4, 4, 3)).repeat(8, axis=1).repeat(8, axis=2)
    noise = rng.integers(-40, 41, targets.shape)
    targets = targets.astype(np.uint8)
    generated = np.clip(targets.astype(int) + noise, 0, 255).astype(np.uint8)
    ours = image_scores(generated, targets)
    theirs = tf.image.ssim(tf.constant(targets), tf.constant(generated), max_val=255).numpy()
    assert np.allclose(ours["ssim gaussian"], theirs, atol=1e-4)
    assert not np.allclose(ours["ssim"], theirs, atol=0.02)  # scikit-image's defaults differ


def test_ssim_gaussian_by_hand_on_one_window(rng):
    """An 11x11 image holds a single window: the Gaussian-weighted means, population variances
    and covariance of Wang et al.'s equation, computed directly."""
    x = rng.integers(0, 256, (11, 11, 1)).astype(np.float64)
    y = np.clip(x + rng.integers(-60, 61, x.shape), 0, 255)
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
    w = np.outer(g, g)[..., None] / np.outer(g, g).sum()
    mx, my = (w * x).sum(), (w * y).sum()
    vx, vy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum()
    cxy = (w * (x - mx) * (y - my)).sum()
    by_hand = (2 * mx * my + C1) * (2 * cxy + C2) / ((mx ** 2 + my ** 2 + C1) * (vx + vy + C2))
    assert ssim_gaussian(x, y) == pytest.approx(by_hand, rel=1e-9)


def test_ssim_gaussian_of_flat_images_is_the_luminance_term():
    a, b = np.full((16, 16, 3), 100.0), np.full((16, 16, 3), 140.0)
    assert ssim_gaussian(a, b) == pytest.approx((2 * 100 * 140 + C1) / (100 ** 2 + 140 ** 2 + C1))


# ---------------------------------------------------------------------------------------------
# Colour histograms

RED, GREEN = [255, 0, 0], [0, 255, 0]  # Lab (53, 80, 67) and (88, -86, 83): no bin in common


def images_of(colours):
    """One 4x4 image a colour: (N, 4, 4, 3) uint8."""
    return np.array(colours, np.uint8)[:, None, None, :].repeat(4, axis=1).repeat(4, axis=2)


def test_histogram_intersections_of_known_mixtures():
    def intersections(generated, real):
        return histogram_intersections(lab_histograms(images_of(generated)),
                                       lab_histograms(images_of(real)))
    assert intersections([RED, GREEN], [GREEN, RED]) == {"hist L": 1, "hist a": 1, "hist b": 1}
    assert intersections([RED], [GREEN]) == {"hist L": 0, "hist a": 0, "hist b": 0}
    assert intersections([RED], [RED, GREEN]) == {"hist L": 0.5, "hist a": 0.5, "hist b": 0.5}
    # 1/4 + 3/4 against 3/4 + 1/4: min(1/4, 3/4) + min(3/4, 1/4)
    assert intersections([RED, GREEN, GREEN, GREEN], [RED, RED, RED, GREEN])["hist a"] == 0.5


def test_lab_histograms_bin_by_unit_and_add_up(rng):
    counts = lab_histograms(images_of([RED, [255, 255, 255]]))
    assert [len(counts[c]) for c in "Lab"] == [100, 256, 256]
    assert counts["L"][53] == 16 and counts["L"][99] == 16  # red's L 53.2; white's 100: last bin
    assert counts["a"][128 + 80] == 16  # red's a 80.1
    images = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    pooled = add_counts(add_counts(None, lab_histograms(images[:2])), lab_histograms(images[2:]))
    assert all(np.array_equal(pooled[c], lab_histograms(images)[c]) for c in "Lab")


def test_other_than_rgb_is_refused_in_one_line():
    with pytest.raises(Pix2PixError, match="^--colours compare RGB images, these have 1 channel"):
        check_rgb((32, 32, 1), "--colours")


# ---------------------------------------------------------------------------------------------
# FID and KID on Gaussians and samples of known distribution

def rotated(rng, diagonal):
    """Q diag Q^T for a random rotation Q: a covariance with known eigenvalues."""
    q, _ = np.linalg.qr(rng.normal(size=(len(diagonal), len(diagonal))))
    return q @ np.diag(diagonal) @ q.T, q


def test_frechet_distance_in_closed_form(rng):
    """Covariances sharing eigenvectors: ||mu1 - mu2||^2 + sum (sqrt(d1) - sqrt(d2))^2."""
    d1, d2 = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 1.0])
    sigma1, q = rotated(rng, d1)
    sigma2 = q @ np.diag(d2) @ q.T
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum()
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu1, sigma1, mu1, sigma1) == pytest.approx(0, abs=1e-9)
    # 1-D, any two: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]),
                            np.array([[9.0]])) == pytest.approx(9 + 1)


def test_fid_of_samples_approaches_the_closed_form(rng):
    sigma, _ = rotated(rng, np.array([1.0, 2.0, 0.5]))
    a = rng.multivariate_normal([0, 0, 0], sigma, 20000)
    b = rng.multivariate_normal([1, 0, 0], 4 * sigma, 20000)  # sqrt(4 sigma) = 2 sqrt(sigma)
    expected = 1 + np.trace(sigma)  # ||mu||^2 + Tr(sigma + 4 sigma - 2 * 2 sigma)
    assert fid(a, b) == pytest.approx(expected, rel=0.05)
    assert fid(a, rng.multivariate_normal([0, 0, 0], sigma, 20000)) < 0.01


def test_kid_by_hand():
    """x = [-1, 1], y = [0, 2], k(u, v) = (uv + 1)^3: k(-1, 1) = 0, k(0, 2) = 1, and across
    k(-1, 0) = 1, k(-1, 2) = -1, k(1, 0) = 1, k(1, 2) = 27: 0 + 1 - 2 * 28 / 4."""
    assert kid([[-1.0], [1.0]], [[0.0], [2.0]]) == pytest.approx(-13)


def test_kid_is_unbiased_for_samples_of_known_distribution(rng):
    """(uv + 1)^3 = (uv)^3 + 3 (uv)^2 + 3 uv + 1, so the squared MMD is
    (E X^3 - E Y^3)^2 + 3 (E X^2 - E Y^2)^2 + 3 (E X - E Y)^2: 16 + 3 + 3 = 22 for X uniform on
    {-1, 1} and Y uniform on {0, 2}; 0 for two samples of X."""
    x = rng.choice([-1.0, 1.0], (4000, 1))
    y = rng.choice([0.0, 2.0], (4000, 1))
    assert kid(x, y) == pytest.approx(22, abs=3.5)  # 4 standard deviations at 4000 samples
    assert abs(kid(x, rng.choice([-1.0, 1.0], (4000, 1)))) < 0.05
