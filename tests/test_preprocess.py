"""--preprocess, --load-size, --crop-size and --no-flip, as the authors' options: shapes, the
same crop and flip for both images of a pair, crops taken without resizing."""
import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_script
from pix2pix.data.preprocess import Preprocess, preprocess_pair
from pix2pix.errors import Pix2PixError


def noise(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("mode, shape", [("resize_and_crop", (32, 32)), ("crop", (32, 32)),
                                         ("scale_width", (36, 48)),
                                         ("scale_width_and_crop", (32, 32)), ("none", (48, 64))])
def test_each_mode_gives_the_authors_shape_and_one_crop_for_both(mode, shape):
    preprocess = Preprocess(mode, crop_size=32, load_size=48)
    image = noise(48, 64)
    rng = np.random.default_rng(0)
    for _ in range(5):
        source, target = preprocess_pair(image, image.copy(), preprocess, rng)
        assert source.shape[:2] == shape and np.array_equal(source, target)


def test_crop_takes_windows_of_the_image_at_its_own_resolution():
    image = noise(64, 96)
    rng = np.random.default_rng(1)
    windows = {image[t:t + 32, l:l + 32].tobytes() for t in range(33) for l in range(65)}
    mirrored = {image[t:t + 32, l:l + 32, :][:, ::-1].tobytes()
                for t in range(33) for l in range(65)}
    crops = [preprocess_pair(image, image, Preprocess("crop", 32), rng)[0] for _ in range(20)]
    assert all(c.tobytes() in windows | mirrored for c in crops)  # no resampling
    assert any(c.tobytes() in mirrored - windows for c in crops)  # and mirrored at times
    unflipped = Preprocess("crop", 32, flip=False)
    assert all(preprocess_pair(image, image, unflipped, rng)[0].tobytes() in windows
               for _ in range(20))


def test_a_crop_larger_than_the_image_is_refused_naming_it():
    with pytest.raises(Pix2PixError, match="big.png: a 64x64 crop is larger than its 48x32"):
        preprocess_pair(noise(32, 48), noise(32, 48), Preprocess("crop", 64), None, "big.png")


def test_train_refuses_a_crop_larger_than_the_images_before_writing(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    Image.fromarray(noise(32, 64)).save(folder / "a.png")
    result = run_script("train.py", folder, "--preprocess", "crop", "--crop-size", 64,
                        "--out", tmp_path / "models")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "a.png" in result.stderr and "crop is larger" in result.stderr
    assert not (tmp_path / "models").exists()


# Each mode end to end: prepare (square halves: an npz; 64x32 halves stay a folder, since
# prepare_dataset.py squares them), train, translate, evaluate. The U-Net takes square
# power-of-two inputs only, so the modes that keep the aspect ratio train a ResNet at 32x64.
END_TO_END = [  # mode, flags, (height, width) of each half, the model's input (height, width)
    ("resize_and_crop", ["--crop-size", 32], (48, 48), (32, 32)),
    ("crop", ["--crop-size", 32], (64, 64), (32, 32)),  # crops of larger pairs, unresized
    ("scale_width_and_crop", ["--load-size", 48, "--crop-size", 32], (32, 64), (32, 32)),
    ("scale_width", ["--load-size", 64, "--netG", "resnet_6blocks"], (32, 64), (32, 64)),
    ("none", ["--netG", "resnet_6blocks"], (32, 64), (32, 64)),
]


@pytest.mark.slow
@pytest.mark.parametrize("mode, flags, half, model_shape", END_TO_END,
                         ids=[case[0] for case in END_TO_END])
def test_each_mode_end_to_end(tmp_path, mode, flags, half, model_shape):
    folder = tmp_path / "pairs"
    folder.mkdir()
    for i in range(3):
        left = noise(*half, i)
        Image.fromarray(np.concatenate([left, 255 - left], axis=1)).save(folder / f"{i}.png")
    data = folder
    if half[0] == half[1]:
        data = tmp_path / "pairs.npz"
        result = run_script("prepare_dataset.py", folder, "--size", half[0], "-o", data)
        assert result.returncode == 0, result.stderr
    models = tmp_path / "models"
    result = run_script("train.py", data, "--preprocess", mode, *flags, "--epochs", 1,
                        "--ngf", 8, "--ndf", 8, "--out", models, "--sample-every", 0)
    assert result.returncode == 0, result.stderr
    model = models / "model_000003.h5"
    from pix2pix.inference.generator import load_generator
    g_model, config = load_generator(str(model))
    assert g_model.input_shape[1:] == (*model_shape, 3)
    assert (config["preprocess"], config["crop_size"], config["flip"]) == (mode, 32, True)
    if "--load-size" in flags:
        assert config["load_size"] == flags[flags.index("--load-size") + 1]

    Image.fromarray(noise(64, 64, 5)).save(tmp_path / "big.png")
    result = run_script("translate.py", model, tmp_path / "big.png", "-o", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "out.png").size == model_shape[::-1]  # the model's size
    result = run_script("translate.py", model, tmp_path / "big.png", "--full-size",
                        "-o", tmp_path / "full.png")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "full.png").size == (64, 64)

    # A folder's pairs are resized to the model's input, whatever its aspect.
    result = run_script("evaluate.py", model, folder, "--json", tmp_path / "scores.json")
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "scores.json") as f:
        report = json.load(f)
    assert report["pairs"] == 3
    scores = report["results"]["model"]
    assert {"mae", "psnr", "ssim"} <= set(scores)
    assert np.all(np.isfinite([scores[name] for name in ("mae", "psnr", "ssim")]))
