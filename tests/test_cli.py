"""Each script end to end, as a user runs it, on small synthetic data."""
import os

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import run_process, run_script
from pix2pix.data.datasets import read_npz
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import (MODEL_EXTENSIONS, load_generator, save_generator,
                                         translate_images)
from pix2pix.model.layers import BatchNorm
from pix2pix.model.networks import PRECISIONS, define_generator, set_precision


@pytest.mark.slow
@pytest.mark.parametrize("script", ["prepare_dataset.py", "plot_samples.py", "train.py",
                                    "translate.py", "evaluate.py"])
def test_help_explains(script):
    result = run_process(script, "--help")
    assert result.returncode == 0
    assert "usage:" in result.stdout and len(result.stdout) > 300


def test_prepare_synthetic_and_from_folder(tmp_path):
    out = tmp_path / "syn.npz"
    result = run_script("prepare_dataset.py", "--synthetic", 6, "--size", 32, "-o", out)
    assert result.returncode == 0, result.stderr
    src, tar = read_npz(str(out))
    assert src.shape == (6, 32, 32, 3)
    # Write them as side-by-side JPEGs in maps/train, then prepare that folder.
    folder = tmp_path / "maps" / "train"
    folder.mkdir(parents=True)
    for i in range(6):
        Image.fromarray(np.concatenate([src[i], tar[i]], axis=1)).save(folder / f"{i}.png")
    result = run_script("prepare_dataset.py", folder, "--size", 32, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "data/maps_32.npz" in result.stdout  # named after the dataset, not the split
    src2, tar2 = read_npz(str(tmp_path / "data" / "maps_32.npz"))
    assert np.array_equal(src2, src) and np.array_equal(tar2, tar)  # PNG is lossless


def test_prepare_offline_download_fails_in_one_line(tmp_path):
    result = run_script("prepare_dataset.py", "--download", "maps", "--base-url",
                        "http://127.0.0.1:9", "--data-dir", tmp_path / "data")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "cannot download" in result.stderr
    assert "Traceback" not in result.stderr


def test_plot_samples(tiny_npz, tmp_path):
    out = tmp_path / "samples.png"
    result = run_script("plot_samples.py", tiny_npz, "-n", 3, "-o", out)
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size[0] > Image.open(out).size[1]  # 3 columns, 2 rows


@pytest.mark.slow
def test_train_translate_evaluate(tiny_npz, tmp_path):
    out = tmp_path / "models"
    result = run_process("train.py", tiny_npz, "--epochs", 2, "--save-every", 1, "--out", out,
                         "--seed", 0)
    assert result.returncode == 0, result.stderr
    names = sorted(os.listdir(out))
    assert names == ["checkpoint.h5", "logs", "losses.csv", "model_000008.h5", "model_000016.h5",
                     "plot_000008.png", "plot_000016.png"]
    model = out / "model_000016.h5"
    g, config = load_generator(str(model))
    assert g.input_shape == (None, 32, 32, 3)
    assert config["step"] == 16 and config["image_size"] == 32 and config["reverse"] is False

    # One image of any size and mode in, one image of the model's size out.
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70), np.uint8)).save(photo)
    result = run_script("translate.py", model, photo, "-o", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "out.png").size == (32, 32)

    # A folder in, a folder out.
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.png"):
        Image.open(photo).save(folder / name)
    result = run_script("translate.py", model, folder, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["a.png", "b.png"]

    # A dataset pair, plotted.
    result = run_script("translate.py", model, "--dataset", tiny_npz, "--index", 2, "-o",
                        tmp_path / "plot.png")
    assert result.returncode == 0, result.stderr
    assert os.path.getsize(tmp_path / "plot.png") > 1000

    result = run_script("evaluate.py", model, tiny_npz)
    assert result.returncode == 0, result.stderr
    for name in ("model", "source", "untrained", "mean target"):
        assert name in result.stdout


@pytest.mark.slow
def test_reverse_swaps_the_direction(tiny_npz, tmp_path):
    out = tmp_path / "models"
    result = run_script("train.py", tiny_npz, "--epochs", 1, "--out", out, "--reverse")
    assert result.returncode == 0, result.stderr
    assert "reversed" in result.stdout
    _, config = load_generator(str(out / "model_000008.h5"))
    assert config["reverse"] is True


@pytest.mark.slow
def test_bfloat16_model_saves_loads_and_translates(tiny_npz, tmp_path):
    out = tmp_path / "models"
    result = run_script("train.py", tiny_npz, "--epochs", 1, "--out", out, "--precision",
                        "bfloat16")
    assert result.returncode == 0, result.stderr
    g, config = load_generator(str(out / "model_000008.h5"))
    assert config["precision"] == "bfloat16"
    # The model file keeps its layers' mixed policy: it translates as it was trained.
    assert {layer.compute_dtype for layer in g.layers
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))} == \
        {"bfloat16"}
    assert {w.dtype for w in g.weights if "seed_generator" not in w.path} == {"float32"}
    result = run_script("translate.py", out / "model_000008.h5", "--dataset", tiny_npz,
                        "--index", 0, "-o", tmp_path / "plot.png")
    assert result.returncode == 0, result.stderr
    assert os.path.getsize(tmp_path / "plot.png") > 1000


@pytest.mark.slow
def test_missing_inputs_give_one_line_errors(tmp_path, tiny_npz):
    cases = [("train.py", [tmp_path / "missing.npz"]),
             ("plot_samples.py", [tmp_path / "missing.npz"]),
             ("translate.py", [tmp_path / "missing.h5", tmp_path / "x.jpg"]),
             ("translate.py", [tiny_npz, tmp_path / "x.jpg"]),
             ("prepare_dataset.py", [tmp_path / "missing"])]
    for script, args in cases:
        result = run_process(script, *args)  # a real process: TensorFlow's own output counts
        assert result.returncode == 1, (script, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert str(args[0]) in result.stderr


@pytest.mark.slow
def test_translate_modes(tiny_npz, tmp_path):
    from pix2pix.inference.generator import save_generator
    from pix2pix.model.networks import define_generator
    model = tmp_path / "g.h5"
    # 64x64: the smallest U-Net with dropout (the authors' has none at 32x32).
    save_generator(define_generator((64, 64, 3)), str(model), {"image_size": 64})
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(photo)
    outputs = {}
    for name, flags in (("paper1", []), ("paper2", []), ("det1", ["--deterministic"]),
                        ("det2", ["--mode", "deterministic"]), ("eval", ["--eval-mode"])):
        result = run_script("translate.py", model, photo, "-o", tmp_path / f"{name}.png", *flags)
        assert result.returncode == 0, result.stderr
        outputs[name] = np.asarray(Image.open(tmp_path / f"{name}.png"), np.int16)
    assert np.array_equal(outputs["det1"], outputs["det2"])  # repeatable
    assert not np.array_equal(outputs["paper1"], outputs["paper2"])  # dropout on
    assert np.abs(outputs["eval"] - outputs["det1"]).mean() > 1  # moving averages differ


def test_an_hdf5_file_is_an_h5_one(tmp_path):
    """.hdf5, H5's other name (Keras 2's checkpoint examples), is written and read as .h5: the
    same bytes' worth of model, the same configuration, the same translation."""
    g = define_generator((32, 32, 3), ngf=8)
    config = {"image_size": 32, "direction": "AtoB", "step": 1}
    for name in ("g.h5", "g.hdf5"):
        save_generator(g, str(tmp_path / name), config)
    (h5, h5_config), (hdf5, hdf5_config) = (load_generator(str(tmp_path / name))
                                            for name in ("g.h5", "g.hdf5"))
    assert hdf5_config == h5_config == config
    sources = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    assert np.array_equal(translate_images(hdf5, sources, "deterministic"),
                          translate_images(h5, sources, "deterministic"))
    (tmp_path / "g.hdf").write_bytes((tmp_path / "g.h5").read_bytes())
    with pytest.raises(Pix2PixError, match="g.hdf: unsupported model file type"):
        load_generator(str(tmp_path / "g.hdf"))


@pytest.mark.slow
@pytest.mark.parametrize("precision", PRECISIONS)
def test_a_keras_file_translates_as_the_h5_one(tmp_path, precision):
    set_precision(precision)
    g = define_generator((64, 64, 3), ngf=8)  # 64x64: with a dropout layer
    config = {"image_size": 64, "direction": "AtoB", "step": 3, "precision": precision}
    for extension in MODEL_EXTENSIONS:
        save_generator(g, str(tmp_path / f"g{extension}"), config)
    with pytest.raises(Pix2PixError, match="g.pt: unsupported model file type; use one of "
                                           r"\.h5, \.keras"):
        save_generator(g, str(tmp_path / "g.pt"), config)
    assert sorted(os.listdir(tmp_path)) == ["g.h5", "g.keras"]  # nothing left half-written
    (h5, h5_config), (zipped, zip_config) = (load_generator(str(tmp_path / f"g{extension}"))
                                             for extension in (".h5", ".keras"))
    assert zip_config == h5_config == config
    assert isinstance(zipped.get_layer("encoder_2_norm"), BatchNorm)
    assert [layer.compute_dtype for layer in zipped.layers] == \
        [layer.compute_dtype for layer in h5.layers]
    sources = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
    assert np.array_equal(translate_images(zipped, sources, "deterministic"),
                          translate_images(h5, sources, "deterministic"))
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)).save(photo)
    for extension in MODEL_EXTENSIONS:
        result = run_script("translate.py", tmp_path / f"g{extension}", photo, "-o",
                            tmp_path / f"from{extension}.png", "--deterministic")
        assert result.returncode == 0, result.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / "from.keras.png")),
                          np.asarray(Image.open(tmp_path / "from.h5.png")))
