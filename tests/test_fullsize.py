"""Full-size translation: any image size in, the same size out; tiles blended without seams;
photos turned upright by their EXIF orientation."""
import keras
import numpy as np
import pytest
from PIL import Image

from conftest import run_script
from pix2pix.inference.fullsize import (blend_tiles, generator_for_shape, generator_stride,
                                       pad_to_multiple, tile_windows, translate_full_size,
                                       translate_full_size_pixels)
from pix2pix.data.images import open_rgb
from pix2pix.inference.generator import save_generator, translate_images
from pix2pix.model.networks import define_generator


@pytest.fixture(scope="module")
def g32():
    keras.utils.set_random_seed(0)
    return define_generator((32, 32, 3))


@pytest.fixture(scope="module")
def model_h5(g32, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "g.h5"
    save_generator(g32, str(path), {"image_size": 32})
    return path


def random_image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def test_stride_is_two_to_the_number_of_downsamplings(g32):
    assert generator_stride(g32) == 32
    assert generator_stride(define_generator((64, 64, 3))) == 64


@pytest.mark.parametrize("width, height", [(75, 50), (100, 40), (32, 32), (20, 70)])
@pytest.mark.parametrize("mode", ["paper", "deterministic", "eval"])
def test_output_has_the_input_size(g32, width, height, mode):
    out = translate_full_size_pixels(g32, random_image(height, width), mode)
    assert out.shape == (height, width, 3) and out.dtype == np.uint8


def test_reflect_padding_centres_the_image():
    image = np.arange(5 * 7, dtype=np.float32).reshape(5, 7, 1)
    padded, (top, left) = pad_to_multiple(image, 4)
    assert padded.shape == (8, 8, 1) and (top, left) == (1, 0)
    assert np.array_equal(padded[top:top + 5, left:left + 7], image)
    assert np.array_equal(padded[0, :7], image[1])  # reflected, not repeated
    assert np.array_equal(padded[1:6, 7], image[:, 5])


def test_a_multiple_of_the_stride_equals_the_generator_built_at_that_size(g32):
    """Compared with a generator made independently from the saved model's config at 64x96,
    given the same weights and called directly as the deterministic mode calls it."""
    config = g32.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = (None, 64, 96, 3)
    direct = keras.Model.from_config(config)
    direct.set_weights(g32.get_weights())
    for layer in direct.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    direct.trainable = False
    x = np.random.default_rng(1).uniform(-1, 1, (64, 96, 3)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(direct(x[np.newaxis], training=True))[0]
    assert np.allclose(translate_full_size(g32, x, "deterministic"), expected, atol=1e-5)
    # The reshaped generator shares the model's weights rather than copying them.
    shaped = generator_for_shape(g32, 64, 96)
    assert shaped.input_shape == (None, 64, 96, 3)
    assert all(a is b for a, b in zip(shaped.weights, g32.weights))


def test_tile_as_large_as_the_image_equals_no_tiles(g32):
    x = np.random.default_rng(2).uniform(-1, 1, (50, 75, 3)).astype(np.float32)  # pads to 64x96
    whole = translate_full_size(g32, x, "deterministic")
    for tile in (96, 128):
        assert np.allclose(translate_full_size(g32, x, "deterministic", tile=tile), whole,
                           atol=1e-6)


@pytest.mark.parametrize("height, width, tile", [(96, 128, 32), (100, 70, 32), (64, 200, 64),
                                                 (33, 300, 32)])
def test_blend_weights_sum_to_one(height, width, tile):
    tile_h, tile_w = min(tile, height), min(tile, width)
    total = np.zeros((height, width))
    for top, left, weights in tile_windows(height, width, tile_h, tile_w):
        assert weights.shape == (tile_h, tile_w) and weights.min() > 0
        total[top:top + tile_h, left:left + tile_w] += weights
    assert np.allclose(total, 1.0)


def test_blending_keeps_what_every_tile_agrees_on():
    x = np.random.default_rng(3).uniform(-1, 1, (100, 70, 3)).astype(np.float32)
    assert np.allclose(blend_tiles(lambda tiles: tiles, x, 32), x, atol=1e-6)
    assert np.allclose(blend_tiles(lambda tiles: np.full_like(tiles, 0.3), x, 32), 0.3)


@pytest.mark.parametrize("height, width, tile", [(96, 128, 32), (100, 70, 32), (64, 200, 64)])
def test_tiles_that_disagree_leave_no_seam(height, width, tile):
    """Each tile translated to its own constant: the blend ramps from one to the next across
    their overlap, no step between neighbouring pixels larger than the range over the overlap
    (averaging the tiles with equal weights would jump by about half the range at each edge)."""
    rng = np.random.default_rng(4)

    def fake(tiles):
        return np.stack([np.full(t.shape, rng.uniform(-1, 1), np.float32) for t in tiles])

    out = blend_tiles(fake, np.zeros((height, width, 3), np.float32), tile)
    step = max(np.abs(np.diff(out, axis=0)).max(), np.abs(np.diff(out, axis=1)).max())
    assert step * (tile // 4) <= out.max() - out.min() + 1e-6


def test_tiled_eval_mode_agrees_with_untiled(g32):
    """In eval mode a translation is local but for its receptive field: 64-pixel tiles of a
    32-stride generator give nearly the untiled image, and nothing like another image's."""
    rng = np.random.default_rng(5)
    x, y = (rng.uniform(-1, 1, (96, 128, 3)).astype(np.float32) for _ in range(2))
    whole = translate_full_size(g32, x, "eval")
    tiled = translate_full_size(g32, x, "eval", tile=64)
    other = translate_full_size(g32, y, "eval")
    assert np.abs(tiled - whole).mean() < 0.05 * np.abs(other - whole).mean()


def test_each_tile_has_its_own_statistics(g32):
    """A 32x64 image in 32-pixel tiles starts tiles at columns 0, 16 and 32: columns 0-15 come
    from the first tile alone, translated as an image of its own."""
    x = np.random.default_rng(6).uniform(-1, 1, (32, 64, 3)).astype(np.float32)
    tiled = translate_full_size(g32, x, "deterministic", tile=32)
    alone = translate_images(g32, x[np.newaxis, :, :32], "deterministic")[0]
    assert np.allclose(tiled[:, :16], alone[:, :16], atol=1e-5)
    assert not np.allclose(translate_full_size(g32, x, "deterministic")[:, :16], alone[:, :16],
                           atol=1e-3)


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


@pytest.mark.slow
def test_cli_full_size(model_h5, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(random_image(50, 75)).save(photo)
    for flags in (["--full-size"], ["--tile", 32], ["--full-size", "--tile", 64, "--eval-mode"]):
        out = tmp_path / "out.png"
        result = run_script("translate.py", model_h5, photo, "-o", out, "--overwrite", *flags)
        assert result.returncode == 0, result.stderr
        assert Image.open(out).size == (75, 50)
    # A phone photo stored sideways comes out upright, at its own size.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(random_image(50, 75)).save(tmp_path / "phone.jpg", exif=exif)
    result = run_script("translate.py", model_h5, tmp_path / "phone.jpg", "--full-size")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "phone_translated.png").size == (50, 75)


def test_cli_full_size_of_the_model_size_equals_the_ordinary_translation(model_h5, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(random_image(32, 32)).save(photo)
    outputs = []
    for name, flags in (("plain", []), ("full", ["--full-size"])):
        result = run_script("translate.py", model_h5, photo, "-o", tmp_path / f"{name}.png",
                            "--deterministic", *flags)
        assert result.returncode == 0, result.stderr
        outputs.append(np.asarray(Image.open(tmp_path / f"{name}.png")))
    assert np.array_equal(*outputs)


def test_cli_folder_keeps_each_image_size(model_h5, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(random_image(40, 100)).save(folder / "wide.png")
    Image.fromarray(random_image(70, 20)).save(folder / "tall.png")
    result = run_script("translate.py", model_h5, folder, "-o", tmp_path / "out", "--full-size")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "out" / "wide.png").size == (100, 40)
    assert Image.open(tmp_path / "out" / "tall.png").size == (20, 70)


@pytest.mark.parametrize("tile, words", [(48, "not a multiple"), (16, "below"), (0, "below"),
                                         (-32, "below")])
def test_cli_bad_tile_gives_one_line(model_h5, tmp_path, tile, words):
    photo = tmp_path / "photo.png"
    Image.fromarray(random_image(50, 75)).save(photo)
    result = run_script("translate.py", model_h5, photo, "-o", tmp_path / "out.png",
                        "--tile", tile)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and words in result.stderr
    assert f"--tile {tile}" in result.stderr and "32" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_cli_full_size_is_not_for_datasets(model_h5, tiny_npz, tmp_path):
    result = run_script("translate.py", model_h5, "--dataset", tiny_npz, "--full-size", "-o",
                        tmp_path / "plot.png")
    assert result.returncode == 1 and "--full-size" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.fixture(scope="module")
def resnet32():
    keras.utils.set_random_seed(0)
    return define_generator((32, 32, 3), ngf=4, netG="resnet_6blocks", norm="instance")


def test_a_resnet_translates_any_size_at_a_stride_of_4(resnet32):
    """The ResNet downsamples twice: a 50x38 image is padded to 52x40 (not to 64x64, as a
    32-pixel U-Net would need), translated, and cropped back; tiles blend as for a U-Net."""
    assert generator_stride(resnet32) == 4
    x = np.random.default_rng(6).uniform(-1, 1, (38, 50, 3)).astype(np.float32)
    out = translate_full_size(resnet32, x, "eval")
    padded, (top, left) = pad_to_multiple(x, 4)
    assert padded.shape == (40, 52, 3)
    direct = translate_images(generator_for_shape(resnet32, 40, 52), padded[np.newaxis], "eval")
    np.testing.assert_allclose(out, direct[0, top:top + 38, left:left + 50], atol=1e-6)
    # Each 40-pixel tile is normalized by its own statistics, so it differs from the whole;
    # but far less than another image's translation does.
    tiled = translate_full_size(resnet32, x, "eval", tile=40)
    other = translate_full_size(resnet32, np.random.default_rng(7).uniform(
        -1, 1, x.shape).astype(np.float32), "eval")
    assert tiled.shape == x.shape
    assert np.abs(tiled - out).mean() < 0.5 * np.abs(other - out).mean()
