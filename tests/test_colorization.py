"""Colorization as the authors' dataset and model do it: L / 50 - 1 in, ab / 110 out, and the
translations turned back into RGB photos of the photo's size."""
import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2lab

from conftest import run_script
from pix2pix.data.colorization import pair_to_photo, photo_to_pair
from pix2pix.data.images import scale_images


def photo(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_l_and_ab_reach_the_networks_as_the_authors_scale_them():
    rgb = photo(16, 16)
    lightness, ab = photo_to_pair(rgb)
    lab = rgb2lab(rgb)
    assert lightness.shape == (16, 16, 1) and ab.shape == (16, 16, 2)
    assert np.abs(scale_images(lightness)[..., 0] - (lab[..., 0] / 50 - 1)).max() < 1e-4
    assert np.abs(scale_images(ab) - lab[..., 1:] / 110).max() < 1e-4


def test_l_and_ab_give_the_photo_back():
    rgb = photo(16, 16, 1)
    assert np.abs(pair_to_photo(*photo_to_pair(rgb)).astype(int) - rgb).max() <= 1


@pytest.mark.slow
def test_colorization_end_to_end(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(photo(40, 40, i)).save(photos / f"{i}.png")
    data, models = tmp_path / "colour.npz", tmp_path / "models"
    result = run_script("prepare_dataset.py", "--colorization", photos, "--size", 32, "-o", data)
    assert result.returncode == 0, result.stderr
    result = run_script("train.py", data, "--preprocess", "none", "--epochs", 1, "--ngf", 8,
                        "--ndf", 8, "--out", models, "--sample-every", 0)  # mirroring only
    assert result.returncode == 0, result.stderr
    model = models / "model_000003.h5"
    Image.fromarray(photo(45, 70, 7)).save(tmp_path / "old.png")
    result = run_script("translate.py", model, tmp_path / "old.png", "-o", tmp_path / "new.png")
    assert result.returncode == 0, result.stderr
    out = Image.open(tmp_path / "new.png")
    assert out.mode == "RGB" and out.size == (70, 45)
    result = run_script("evaluate.py", model, data, "--samples", tmp_path / "s.png")
    assert result.returncode == 0, result.stderr
    result = run_script("plot_samples.py", data, "-o", tmp_path / "p.png")
    assert result.returncode == 0, result.stderr
