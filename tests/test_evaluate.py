"""Metrics on hand-checkable cases, the inference modes, and evaluate.py end to end."""
import json
import math

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import run_script
from pix2pix.data.datasets import read_npz
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import save_generator, translate_images
from pix2pix.inference.metrics import (PSNR_CAP, confusion_matrix, image_scores, kmeans_palette,
                             label_scores, load_palette)
from pix2pix.model.networks import define_generator
from pix2pix.data.prepare import save_dataset
from pix2pix.data.synthetic import synthetic_dataset

SHAPE = (32, 32, 3)
PALETTE = np.array([[255, 0, 0], [0, 0, 255], [0, 200, 0]], np.uint8)


@pytest.fixture(scope="module")
def untrained_h5(tmp_path_factory):
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("models") / "untrained.h5"
    save_generator(define_generator(SHAPE), str(path), {"reverse": False, "image_size": 32})
    return path


def label_image():
    """A 32x32 label map: left half class 0, right half class 1, a 8x8 square of class 2."""
    labels = np.zeros((32, 32), int)
    labels[:, 16:] = 1
    labels[:8, :8] = 2
    return labels


def test_identical_images_score_perfectly(rng):
    images = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    scores = image_scores(images, images)
    assert np.all(scores["mae"] == 0) and np.all(scores["psnr"] == PSNR_CAP)
    assert np.allclose(scores["ssim"], 1) and np.all(scores["pixels within 5"] == 1)


def test_known_differences():
    target = np.full((1, 32, 32, 3), 100, np.uint8)
    generated = target.copy()
    generated[0, :16] += 10  # half the pixels off by 10 in every channel
    generated[0, 16:, :, 0] += 5  # the rest off by 5 in one channel: still within 5
    scores = image_scores(generated, target)
    mse = (10 ** 2 * 3 * 512 + 5 ** 2 * 512) / (3 * 1024)
    assert scores["mae"][0] == pytest.approx((10 * 3 * 512 + 5 * 512) / (3 * 1024) / 127.5)
    assert scores["psnr"][0] == pytest.approx(10 * math.log10(255 ** 2 / mse))
    assert scores["pixels within 5"][0] == 0.5


def test_label_scores_on_a_constructed_label_map(rng):
    target = PALETTE[label_image()][np.newaxis]
    wrong = label_image()
    wrong[:8, :8] = 0  # the class-2 square (64 pixels) painted as class 0
    noise = rng.integers(-20, 21, (32, 32, 3))  # colours near, not on, the palette
    generated = np.clip(PALETTE[wrong].astype(int) + noise, 0, 255).astype(np.uint8)[np.newaxis]
    confusion = confusion_matrix(generated, target, PALETTE)
    assert confusion.tolist() == [[448, 0, 0], [0, 512, 0], [64, 0, 0]]
    scores = label_scores(confusion)
    assert scores["per-pixel acc"] == pytest.approx(960 / 1024)
    assert scores["per-class acc"] == pytest.approx((1 + 1 + 0) / 3)
    assert scores["class IoU"] == pytest.approx((448 / 512 + 1 + 0) / 3)


def test_kmeans_finds_the_palette(rng):
    images = PALETTE[label_image()][np.newaxis].astype(int) + rng.integers(-3, 4, (1, 32, 32, 3))
    palette = kmeans_palette(np.clip(images, 0, 255).astype(np.uint8), 3, seed=0)
    found = sorted(map(tuple, palette.astype(int)))
    expected = sorted(map(tuple, PALETTE.astype(int)))
    assert np.abs(np.array(found) - np.array(expected)).max() <= 3


def test_palette_files(tmp_path):
    text = tmp_path / "palette.txt"
    text.write_text("# r g b\n255 0 0\n0,0,255\n\n0 200 0\n")
    as_json = tmp_path / "palette.json"
    as_json.write_text(json.dumps(PALETTE.tolist()))
    assert np.array_equal(load_palette(str(text)), PALETTE)
    assert np.array_equal(load_palette(str(as_json)), PALETTE)
    bad = tmp_path / "bad.txt"
    bad.write_text("255 0\n")
    with pytest.raises(Pix2PixError, match="bad.txt"):
        load_palette(str(bad))


def test_modes_keep_the_weights(tmp_path, rng):
    # 64x64: the smallest U-Net with dropout (the authors' has none at 32x32).
    path = tmp_path / "untrained_64.h5"
    save_generator(define_generator((64, 64, 3)), str(path), {"image_size": 64})
    g = keras.models.load_model(str(path), compile=False)
    src = rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
    before = [keras.ops.convert_to_numpy(v).copy() for v in g.weights]
    rates = [layer.rate for layer in g.layers if isinstance(layer, keras.layers.Dropout)]
    paper = [translate_images(g, src) for _ in range(2)]
    deterministic = [translate_images(g, src, "deterministic") for _ in range(2)]
    evaluated = translate_images(g, src, "eval")
    assert not np.allclose(paper[0], paper[1])  # dropout: stochastic
    assert np.array_equal(deterministic[0], deterministic[1])
    assert not np.allclose(evaluated, deterministic[0])  # moving averages, not batch statistics
    after = [keras.ops.convert_to_numpy(v) for v in g.weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert [layer.rate for layer in g.layers if isinstance(layer, keras.layers.Dropout)] == rates
    assert g.trainable
    with pytest.raises(ValueError, match="mode"):
        translate_images(g, src, "predict")


def test_evaluate_npz_json_samples_labels(untrained_h5, tiny_npz, tmp_path):
    report, samples = tmp_path / "scores.json", tmp_path / "samples.png"
    result = run_script("evaluate.py", untrained_h5, tiny_npz, "--mode", "deterministic",
                        "--labels", "--classes", 4, "--json", report, "--samples", samples,
                        "-n", 5)
    assert result.returncode == 0, result.stderr
    for row in ("model", "source", "untrained", "mean target"):
        assert row in result.stdout
    for column in ("mae", "psnr", "ssim", "ssim gaussian", "pixels within 5", "per-pixel acc",
                   "class IoU"):
        assert column in result.stdout
    scores = json.loads(report.read_text())
    assert scores["pairs"] == 8 and scores["mode"] == "deterministic"
    assert len(scores["palette"]) == 4
    assert set(scores["results"]) == {"model", "source", "untrained", "mean target"}
    assert 0 <= scores["results"]["model"]["per-class acc"] <= 1
    width, height = Image.open(samples).size
    assert width > 1.5 * height  # 5 columns, 3 rows


def test_evaluate_folder_with_palette(untrained_h5, tiny_npz, tmp_path):
    src, tar = read_npz(str(tiny_npz))
    folder = tmp_path / "pairs"
    folder.mkdir()
    for i in range(3):  # twice the model's size: resized to 32 on reading
        pair = np.concatenate([src[i], tar[i]], axis=1).repeat(2, axis=0).repeat(2, axis=1)
        Image.fromarray(pair).save(folder / f"{i}.png")
    palette = tmp_path / "palette.json"
    palette.write_text(json.dumps(PALETTE.tolist()))
    report = tmp_path / "scores.json"
    result = run_script("evaluate.py", untrained_h5, folder, "--labels", "--palette", palette,
                        "--json", report, "--reverse", "--mode", "eval")
    assert result.returncode == 0, result.stderr
    scores = json.loads(report.read_text())
    assert scores["pairs"] == 3 and scores["reverse"] is True
    assert scores["palette"] == PALETTE.tolist()


def test_size_mismatch_is_one_line(untrained_h5, tmp_path):
    data = tmp_path / "big.npz"
    save_dataset(str(data), *synthetic_dataset(2, 64, seed=0))
    result = run_script("evaluate.py", untrained_h5, data)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(data) in result.stderr and "64x64" in result.stderr and "32x32" in result.stderr


def test_existing_outputs_are_refused_before_the_work(untrained_h5, tiny_npz, tmp_path):
    report, samples = tmp_path / "scores.json", tmp_path / "samples.png"
    report.write_text("kept")
    samples.write_bytes(b"kept")
    for flags in (["--json", report], ["--samples", samples], ["--samples", tmp_path / "s.txt"]):
        result = run_script("evaluate.py", untrained_h5, tiny_npz, *flags)
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert str(flags[1]) in result.stderr
        assert "model" not in result.stdout  # refused before any translation was scored
    assert report.read_text() == "kept" and samples.read_bytes() == b"kept"
    result = run_script("evaluate.py", untrained_h5, tiny_npz, "--json", report,
                        "--samples", samples, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert json.loads(report.read_text())["pairs"] == 8
    assert Image.open(samples).size[0] > 0


@pytest.mark.slow
def test_evaluate_a_resnet_generator(tiny_npz, tmp_path):
    """The baselines follow the model's structure: the untrained one is a fresh ResNet too."""
    keras.utils.set_random_seed(0)
    path = tmp_path / "resnet.h5"
    save_generator(define_generator(SHAPE, ngf=4, netG="resnet_6blocks"), str(path),
                   {"image_size": 32, "netG": "resnet_6blocks"})
    result = run_script("evaluate.py", path, tiny_npz, "--json", tmp_path / "scores.json")
    assert result.returncode == 0, result.stderr
    scores = json.loads((tmp_path / "scores.json").read_text())["results"]
    assert set(scores) == {"model", "source", "untrained", "mean target"}
    assert scores["model"]["mae"] != scores["untrained"]["mae"]  # two networks, not one
