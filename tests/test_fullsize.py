"""Full-size translation: any image size in, the same size out; tiles blended without seams;
photos turned upright by their EXIF orientation."""
import numpy as np
from PIL import Image

from pix2pix.data import open_rgb


def random_image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def test_exif_orientation_is_honoured(tmp_path):
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: turn 90 degrees clockwise to view
    Image.fromarray(random_image(20, 30)).save(path, quality=95, exif=exif)
    with Image.open(path) as stored:
        stored_pixels = np.asarray(stored.convert("RGB"))
    upright = open_rgb(str(path))
    assert upright.size == (20, 30)  # width and height swapped
    assert np.array_equal(np.asarray(upright), np.rot90(stored_pixels, k=-1))
