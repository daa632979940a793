"""Channels and bit depths: grayscale, 16-bit and N-channel data keep what they hold, from the
files through training to the translations."""
import numpy as np
import pytest
from PIL import Image
import tifffile

from conftest import run_script
from pix2pix.data.datasets import load_batch, load_dataset, load_images, read_npz
from pix2pix.data.images import open_image, open_rgb, scale_images, unscale_images
from pix2pix.data.prepare import save_dataset
from pix2pix.errors import Pix2PixError
from pix2pix.inference.metrics import evaluate_answers


def ramp16(height, width, seed=0):
    """A uint16 image using thousands of distinct values (far more than 8 bits hold)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 65536, (height, width), dtype=np.uint16)


def test_a_16_bit_pair_keeps_its_precision_from_file_to_batch_and_back(tmp_path):
    pair = np.concatenate([ramp16(32, 32, 0), ramp16(32, 32, 1)], axis=1)
    Image.fromarray(pair).save(tmp_path / "pair.png")
    sources, targets = load_images(str(tmp_path), 32)
    assert sources.dtype == np.uint16 and sources.shape == (1, 32, 32, 1)
    assert np.array_equal(sources[0, :, :, 0], pair[:, :32])
    batch = load_batch(load_dataset(str(tmp_path), 32), [0])[0]
    back = unscale_images(batch, np.uint16)
    assert np.array_equal(back[0, :, :, 0], pair[:, :32])
    assert len(np.unique(back)) > 256  # more than 8 bits survive


def test_one_scale_for_every_image_of_a_set():
    """A dark 16-bit frame is not stretched to its own maximum: 1000 is 1000 in every image."""
    dark, bright = np.full((1, 2, 2, 1), 1000, np.uint16), np.full((1, 2, 2, 1), 60000, np.uint16)
    assert scale_images(dark)[0, 0, 0, 0] == pytest.approx(1000 / 65535 * 2 - 1)
    assert scale_images(bright)[0, 0, 0, 0] == pytest.approx(60000 / 65535 * 2 - 1)
    assert scale_images(dark, max_value=4095)[0, 0, 0, 0] == pytest.approx(1000 / 4095 * 2 - 1)


def test_open_rgb_divides_16_bit_values_by_one_rule(tmp_path):
    Image.fromarray(np.full((4, 4), 200, np.uint16)).save(tmp_path / "dark.png")
    assert np.asarray(open_rgb(str(tmp_path / "dark.png"))).max() == 1  # 200 / 257, not 200


def test_scores_are_on_the_scale_the_networks_saw():
    """12-bit data in 16-bit files (--max-value 4095): an answer 41 off everywhere is 41 / 2047.5
    off on the networks' [-1, 1] scale, not 41 / 32767.5 (the whole 16-bit range), and its PSNR
    is that of a 4095 peak."""
    targets = np.random.default_rng(0).integers(0, 4000, (3, 16, 16, 1)).astype(np.uint16)
    answers = {"shifted": lambda sources: sources + 41}
    scores = evaluate_answers(answers, targets, targets, max_value=4095)["shifted"]
    assert scores["mae"] == pytest.approx(41 / 2047.5)
    assert scores["psnr"] == pytest.approx(20 * np.log10(4095 / 41))


def test_tiff_of_many_channels_is_read_whole(tmp_path):
    image = np.stack([ramp16(8, 16, c) for c in range(5)], axis=-1)
    tifffile.imwrite(tmp_path / "five.tif", image, photometric="minisblack",
                     planarconfig="contig")
    assert np.array_equal(open_image(str(tmp_path / "five.tif")), image)
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(image, -1, 0), planarconfig="separate")
    assert np.array_equal(open_image(str(tmp_path / "planar.tif")), image)


def test_npz_keeps_channel_counts_of_its_own(tmp_path):
    sources = np.zeros((2, 32, 32, 1), np.uint8)
    targets = np.zeros((2, 32, 32, 4), np.uint8)
    save_dataset(str(tmp_path / "d.npz"), sources, targets)
    dataset = load_dataset(str(tmp_path / "d.npz"))
    assert dataset.image_shape == (32, 32, 1) and dataset.target_shape == (32, 32, 4)
    assert [b.shape for b in load_batch(dataset, [0, 1])] == [(2, 32, 32, 1), (2, 32, 32, 4)]


def test_mixed_bit_depths_are_refused_naming_the_file(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    Image.fromarray(np.zeros((32, 64), np.uint8)).save(folder / "a.png")
    Image.fromarray(ramp16(32, 64)).save(folder / "b.png")
    with pytest.raises(Pix2PixError, match=r"b\.png.*16-bit.*a\.png.*8-bit|a\.png.*8-bit.*b\.png"):
        load_images(str(folder), 32)
    out = tmp_path / "d.npz"
    result = run_script("prepare_dataset.py", folder, "--size", 32, "-o", out)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "b.png" in result.stderr.strip().splitlines()[-1] and not out.exists()
    streamed = load_dataset(str(folder), 32)  # streaming: refused when the pair is read
    with pytest.raises(Pix2PixError, match="b.png"):
        streamed[1]


def test_mixed_channel_counts_are_refused_naming_the_file(tmp_path):
    """An RGB pair and a 5-channel TIFF pair do not make one dataset: refused in one line that
    names the TIFF; an 8-bit grayscale pair among RGB ones is widened instead (as the authors'
    code converts every image to RGB)."""
    folder = tmp_path / "pairs"
    folder.mkdir()
    Image.fromarray(np.zeros((32, 64, 3), np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((32, 64), 200, np.uint8)).save(folder / "b.png")
    sources, _ = load_images(str(folder), 32)
    assert sources.shape == (2, 32, 32, 3) and (sources[1] == 200).all()
    tifffile.imwrite(folder / "c.tif", np.zeros((32, 64, 5), np.uint8), photometric="minisblack",
                     planarconfig="contig")
    with pytest.raises(Pix2PixError, match=r"c\.tif: 5-channel.*a\.png has 3-channel|"
                                           r"a\.png: 3-channel.*c\.tif has 5-channel"):
        load_images(str(folder), 32)


def test_npz_mixing_bit_depths_is_refused(tmp_path):
    np.savez(tmp_path / "d.npz", np.zeros((1, 32, 32, 3), np.uint8),
             np.zeros((1, 32, 32, 3), np.uint16))
    with pytest.raises(Pix2PixError, match="one bit depth"):
        read_npz(str(tmp_path / "d.npz"))


@pytest.mark.slow
def test_16_bit_grayscale_end_to_end(tmp_path):
    """prepare, train, translate, evaluate on 16-bit 1-channel pairs: the translation is a
    16-bit grayscale PNG."""
    folder = tmp_path / "pairs"
    folder.mkdir()
    for i in range(4):
        left = ramp16(32, 32, i)
        Image.fromarray(np.concatenate([left, 65535 - left], axis=1)).save(folder / f"{i}.png")
    data, models = tmp_path / "d.npz", tmp_path / "models"
    assert run_script("prepare_dataset.py", folder, "--size", 32, "-o", data).returncode == 0
    result = run_script("train.py", data, "--epochs", 1, "--ngf", 8, "--ndf", 8,
                        "--out", models, "--sample-every", 0)
    assert result.returncode == 0, result.stderr
    model = models / "model_000004.h5"
    photo = tmp_path / "in.png"
    Image.fromarray(ramp16(32, 32, 9)).save(photo)
    result = run_script("translate.py", model, photo, "-o", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.dtype == np.uint16 and out.shape == (32, 32) and len(np.unique(out)) > 256
    result = run_script("evaluate.py", model, data, "--samples", tmp_path / "s.png")
    assert result.returncode == 0, result.stderr
    assert "model" in result.stdout and (tmp_path / "s.png").exists()


@pytest.mark.slow
def test_one_channel_in_three_out_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 256, (4, 32, 32, 1), dtype=np.uint8)
    data, models = tmp_path / "d.npz", tmp_path / "models"
    save_dataset(str(data), sources, np.repeat(255 - sources, 3, axis=-1))
    result = run_script("train.py", data, "--epochs", 1, "--ngf", 8, "--ndf", 8,
                        "--out", models, "--sample-every", 0)
    assert result.returncode == 0, result.stderr
    Image.fromarray(sources[0, :, :, 0]).save(tmp_path / "gray.png")
    result = run_script("translate.py", models / "model_000004.h5", tmp_path / "gray.png",
                        "-o", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "out.png").mode == "RGB"
    result = run_script("evaluate.py", models / "model_000004.h5", data)
    assert result.returncode == 0, result.stderr
