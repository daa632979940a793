"""Bad model files (missing, not H5, H5 without a Keras model, a discriminator, another image
size) and how load_generator, translate.py and evaluate.py answer them."""
import re
import zipfile

import h5py
import numpy as np
import pytest
from PIL import Image

from conftest import assert_fails, good_pairs, leftovers, pair_array, png_bytes, run_script
from pix2pix.errors import Pix2PixError
from pix2pix.inference.generator import load_generator, save_generator
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.data.prepare import save_dataset


@pytest.fixture(scope="session")
def bad_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_models")
    with h5py.File(folder / "not_keras.h5", "w") as f:
        f["weights"] = np.arange(10)
    (folder / "not_h5.h5").write_text("just text")
    define_discriminator((32, 32, 3)).save(str(folder / "discriminator.h5"))
    (folder / "model.pt").write_text("a model file of another kind")
    good = tmp_path_factory.mktemp("good") / "g.keras"
    save_generator(define_generator((32, 32, 3)), str(good), {"image_size": 32})
    whole = good.read_bytes()
    (folder / "truncated.keras").write_bytes(whole[:len(whole) // 2])
    middle = len(whole) // 2  # in the weights, most of the file
    (folder / "corrupted.keras").write_bytes(
        whole[:middle] + bytes([whole[middle] ^ 0xFF]) + whole[middle + 1:])
    with zipfile.ZipFile(folder / "not_keras.keras", "w") as archive:
        archive.writestr("notes.txt", "a zip file, but no Keras model in it")
    define_discriminator((32, 32, 3)).save(str(folder / "discriminator.keras"))
    return folder


MODEL_CASES = {"missing.h5": "no such model file", "not_keras.h5": "not a Keras model",
               "not_h5.h5": "not an H5 model file", "discriminator.h5": "discriminator",
               "model.pt": "unsupported model file type; use one of .h5, .keras",
               "truncated.keras": "not a .keras model file, or a damaged one",
               "corrupted.keras": "cannot load the model",
               "not_keras.keras": "not a Keras model (no model in this zip file)",
               "discriminator.keras": "discriminator"}


@pytest.mark.parametrize("name", sorted(MODEL_CASES))
def test_bad_model_is_refused(bad_models, name):
    with pytest.raises(Pix2PixError, match=re.escape(MODEL_CASES[name])):
        load_generator(str(bad_models / name))


@pytest.mark.parametrize("script, name", [("translate.py", n) for n in sorted(MODEL_CASES)]
                         + [("evaluate.py", "not_keras.h5"), ("evaluate.py", "discriminator.h5")])
def test_scripts_refuse_a_bad_model(tmp_path, bad_models, tiny_npz, script, name):
    model = bad_models / name
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes(Image.fromarray(pair_array())))
    args = [model, image, "-o", tmp_path / "out.png"] if script == "translate.py" \
        else [model, tiny_npz]
    assert_fails(run_script(script, *args), model, MODEL_CASES[name])
    assert not (tmp_path / "out.png").exists() and not leftovers(tmp_path)


@pytest.fixture(scope="session")
def npz_64(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "synthetic_64.npz"
    save_dataset(str(path), *good_pairs(2, 64))
    return path


@pytest.mark.parametrize("script", ["translate.py", "evaluate.py"])
def test_model_size_must_match_the_data(tmp_path, generator_h5, npz_64, script):
    args = [generator_h5, "--dataset", npz_64, "-o", tmp_path / "t.png"] \
        if script == "translate.py" else [generator_h5, npz_64]
    assert_fails(run_script(script, *args), npz_64, "do not fit the model")
    assert not (tmp_path / "t.png").exists()
