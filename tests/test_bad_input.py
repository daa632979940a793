"""A corpus of bad input, made here (nothing binary is committed), and how each script answers it.

Every failure is exit status 1 with one line on stderr naming the file and what is wrong, no
traceback and no output file left behind; a usage error is exit status 2 (argparse's). In a
folder, prepare_dataset.py and translate.py name each bad image, skip it and go on.
"""
import errno
import io
import os
import re
import struct
import sys
import zipfile
import zlib

import h5py
import numpy as np
import pytest
from PIL import Image

import pix2pix.cli
from conftest import run_script
from pix2pix.data.datasets import read_npz
from pix2pix.errors import Pix2PixError
from pix2pix.data.images import MAX_IMAGE_PIXELS, load_pair, open_rgb
from pix2pix.inference.generator import load_generator, save_generator
from pix2pix.model.networks import define_discriminator, define_generator
from pix2pix.data.prepare import save_dataset
from pix2pix.data.synthetic import synthetic_dataset

SCRIPTS = ["prepare_dataset.py", "plot_samples.py", "train.py", "translate.py", "evaluate.py",
           "export.py", "serve.py"]


def assert_fails(result, *names, code=1):
    """Exit `code`, exactly one line on stderr naming every one of `names`, no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    for name in names:
        assert str(name) in result.stderr, (name, result.stderr)


def leftovers(folder):
    """Temporary files that a failed write would leave behind."""
    return [n for n in os.listdir(folder) if ".tmp" in n]


# ---------------------------------------------------------------------------------------------
# The corpus

def pair_array(width=64, height=32, seed=0):
    """A side-by-side image whose left half is dark and right half bright."""
    rng = np.random.default_rng(seed)
    left = rng.integers(0, 100, (height, width // 2, 3), dtype=np.uint8)
    right = rng.integers(156, 256, (height, width - width // 2, 3), dtype=np.uint8)
    return np.concatenate([left, right], axis=1)


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_declaring(width, height):
    """A tiny valid PNG whose header (IHDR) is patched to declare width x height pixels."""
    data = bytearray(png_bytes(Image.new("RGB", (8, 8))))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # the chunk's CRC
    return bytes(data)


def jpeg_bytes():
    buffer = io.BytesIO()
    Image.fromarray(pair_array()).save(buffer, format="JPEG")
    return buffer.getvalue()


def sixteen_bit_png():
    wide = np.concatenate([np.full((32, 32), 1000), np.full((32, 32), 60000)], 1)
    return png_bytes(Image.fromarray(wide.astype(np.uint16)))


# name -> (file contents, a word of the expected error); None: the image is accepted.
BAD_IMAGES = {
    "zero_bytes.jpg": (lambda: b"", "not a readable image"),
    "truncated.jpg": (lambda: jpeg_bytes()[:300], "not a readable image"),
    "text.jpg": (lambda: b"this is a text file, not a JPEG\n", "not a readable image"),
    "bomb.png": (lambda: png_declaring(100_000, 100_000), "decompression bomb"),
    # Above the limit but under twice it, where PIL only warns: still refused.
    "bomb_warning.png": (lambda: png_declaring(12_000, 12_000), "decompression bomb"),
}
BAD_PAIRS = dict(BAD_IMAGES, **{
    "one_pixel_wide.png": (lambda: png_bytes(Image.new("RGB", (1, 32))), "too small to split"),
})
CONVERTED_IMAGES = {
    "grayscale.png": lambda: png_bytes(Image.fromarray(pair_array()).convert("L")),
    "rgba.png": lambda: png_bytes(Image.fromarray(pair_array()).convert("RGBA")),
    "palette.png": lambda: png_bytes(Image.fromarray(pair_array()).convert("P")),
    "sixteen_bit.png": sixteen_bit_png,
}
ODD_SHAPED = {"square.png": lambda: png_bytes(Image.fromarray(pair_array(48, 48)))}


def write_files(folder, corpus):
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in corpus.items():
        (folder / name).write_bytes((make[0] if isinstance(make, tuple) else make)())
    return folder


def test_bomb_is_over_the_limit_and_tiny():
    assert 12_000 * 12_000 > MAX_IMAGE_PIXELS > 2 ** 26
    assert len(png_declaring(100_000, 100_000)) < 200
    assert Image.open(io.BytesIO(png_declaring(50, 40))).size == (50, 40)  # the header is valid


@pytest.mark.parametrize("name", sorted(BAD_PAIRS))
def test_bad_pair_is_refused_by_name(tmp_path, name):
    path = write_files(tmp_path, {name: BAD_PAIRS[name]}) / name
    with pytest.raises(Pix2PixError, match=BAD_PAIRS[name][1]) as caught:
        load_pair(str(path), 32)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_bomb_is_refused_without_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(100_000, 100_000))
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("the bomb was decoded"))
    with pytest.raises(Pix2PixError, match="decompression bomb"):
        open_rgb(str(path))


@pytest.mark.parametrize("name", sorted(CONVERTED_IMAGES))
def test_other_modes_are_converted(tmp_path, name):
    path = write_files(tmp_path, {name: CONVERTED_IMAGES[name]}) / name
    left, right = load_pair(str(path), 32)
    assert left.shape == right.shape == (32, 32, 3) and left.mean() < right.mean()


def test_odd_shaped_pair_is_split_with_a_warning(tmp_path, capsys):
    path = write_files(tmp_path, ODD_SHAPED) / "square.png"
    left, right = load_pair(str(path), 32)
    assert left.shape == (32, 32, 3)
    err = capsys.readouterr().err
    assert "warning" in err and str(path) in err and "48x48" in err
    load_pair(str(path), 32)  # read again, as every epoch of a streamed folder does
    assert capsys.readouterr().err == ""
    write_files(tmp_path, {"ok.png": lambda: png_bytes(Image.fromarray(pair_array(66, 32)))})
    load_pair(str(tmp_path / "ok.png"), 32)  # within 10% of 2:1: no warning
    assert capsys.readouterr().err == ""


def test_prepare_folder_names_and_skips_each_bad_image(tmp_path):
    folder = write_files(tmp_path / "pairs", dict(BAD_PAIRS, **CONVERTED_IMAGES, **ODD_SHAPED))
    (folder / "notes.txt").write_text("not an image, not even looked at")
    out = tmp_path / "pairs.npz"
    result = run_script("prepare_dataset.py", folder, "--size", 32, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for name, (_, reason) in BAD_PAIRS.items():
        assert any(name in line and line.startswith("skipping") and reason in line
                   for line in lines), (name, result.stderr)
    assert any(line.startswith("warning") and "square.png" in line for line in lines)
    src, _ = read_npz(str(out))
    assert len(src) == len(CONVERTED_IMAGES) + len(ODD_SHAPED)
    assert "notes.txt" not in result.stderr


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_translate_refuses_a_bad_image(tmp_path, generator_h5, name):
    path = write_files(tmp_path, {name: BAD_IMAGES[name]}) / name
    result = run_script("translate.py", generator_h5, path, "-o", tmp_path / "out.png")
    assert_fails(result, path, BAD_IMAGES[name][1])
    assert not (tmp_path / "out.png").exists() and not leftovers(tmp_path)


def test_translate_folder_converts_modes_and_skips_bad_images(tmp_path, generator_h5):
    folder = write_files(tmp_path / "in", dict(CONVERTED_IMAGES, **{
        "text.jpg": BAD_IMAGES["text.jpg"]}))
    result = run_script("translate.py", generator_h5, folder, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "text.jpg" in result.stderr
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == sorted(n.replace(".jpg", ".png") for n in CONVERTED_IMAGES)
    assert all(Image.open(tmp_path / "out" / n).size == (32, 32) for n in names)


# ---------------------------------------------------------------------------------------------
# Folders

def make_folder(tmp_path, kind):
    folder = tmp_path / kind
    if kind == "empty":
        folder.mkdir()
    elif kind == "no_images":
        folder.mkdir()
        (folder / "notes.txt").write_text("hello")
        (folder / "table.csv").write_text("a,b\n1,2\n")
        (folder / "sub.jpg").mkdir()  # a folder with an image's name is not an image
    elif kind == "all_bad":
        write_files(folder, {n: BAD_PAIRS[n] for n in ("zero_bytes.jpg", "text.jpg")})
    elif kind == "a_file":
        folder.write_text("I am a file")
    return folder  # "missing": never made


@pytest.mark.parametrize("kind, reason", [("missing", "no such folder"),
                                          ("empty", "no images found"),
                                          ("no_images", "no images found"),
                                          ("all_bad", "none of its 2 images"),
                                          ("a_file", "is a file")])
def test_prepare_refuses_a_bad_folder(tmp_path, kind, reason):
    folder = make_folder(tmp_path, kind)
    result = run_script("prepare_dataset.py", folder, "-o", tmp_path / "out.npz")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and str(folder) in result.stderr
    assert reason in result.stderr.splitlines()[-1]  # skipped files are named on lines above
    assert not (tmp_path / "out.npz").exists() and not leftovers(tmp_path)


def test_translate_refuses_a_folder_without_images(tmp_path, generator_h5):
    folder = make_folder(tmp_path, "no_images")
    result = run_script("translate.py", generator_h5, folder)
    assert_fails(result, folder, "no images found")


def test_unreadable_image_is_named_and_skipped(tmp_path, monkeypatch, capsys):
    """chmod 000 blocks nothing for root, so the refusal is simulated where PIL opens the file."""
    folder = write_files(tmp_path / "pairs", {"ok.png": lambda: png_bytes(
        Image.fromarray(pair_array())), "locked.png": lambda: png_bytes(
        Image.fromarray(pair_array()))})
    real_open = Image.open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith("locked.png"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Image, "open", refusing_open)
    from pix2pix.data.datasets import load_images
    src, _ = load_images(str(folder), 32)
    assert len(src) == 1
    err = capsys.readouterr().err
    assert "locked.png: cannot be read (permission denied)" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_unreadable_image_file(tmp_path, generator_h5):
    path = write_files(tmp_path, {"locked.png": lambda: png_bytes(Image.new("RGB", (8, 8)))})
    path = path / "locked.png"
    path.chmod(0)
    try:
        result = run_script("translate.py", generator_h5, path, "-o", tmp_path / "o.png")
    finally:
        path.chmod(0o644)
    assert_fails(result, path, "permission denied")


# ---------------------------------------------------------------------------------------------
# Arrays

def good_pairs(n=3, size=32):
    return synthetic_dataset(n, size, seed=0)


def write_npz(path, kind):
    src, tar = good_pairs()
    if kind == "no_arrays":
        np.savez(path, images=src, maps=tar)
    elif kind == "different_counts":
        np.savez(path, src, tar[:2])
    elif kind == "wrong_dtype":  # scaled to [-1, 1] (float32 0-255 is accepted: the tutorial's)
        np.savez(path, src / 127.5 - 1, tar / 127.5 - 1)
    elif kind == "float_out_of_range":  # 16-bit values
        np.savez(path, src.astype(np.float32) * 257, tar.astype(np.float32))
    elif kind == "wrong_rank":
        np.savez(path, src[0], tar[0])
    elif kind == "no_pairs":
        np.savez(path, src[:0], tar[:0])
    elif kind == "truncated":
        save_dataset(str(path), src, tar)
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif kind == "pickle":  # an object array: loading it would unpickle, which can run code
        np.savez(path, np.array([{"evil": "payload"}], dtype=object), tar)
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, src)
    elif kind == "not_npz":
        path.write_text("arr_0,arr_1\n1,2\n")
    return path


NPZ_CASES = {"no_arrays": "arr_0 and arr_1", "different_counts": "same number",
             "wrong_dtype": "uint8", "float_out_of_range": "values 0-255",
             "wrong_rank": "uint8 images of shape", "no_pairs": "(> 0)",
             "truncated": "truncated", "pickle": "never loaded", "npy": "not an npz file",
             "not_npz": "not an npz file"}


@pytest.mark.parametrize("kind", sorted(NPZ_CASES))
def test_bad_npz_is_refused(tmp_path, kind):
    path = write_npz(tmp_path / f"{kind}.npz", kind)
    with pytest.raises(Pix2PixError, match=NPZ_CASES[kind].replace("(", r"\(").replace(")", r"\)")):
        read_npz(str(path))


def test_pickle_is_never_unpickled(tmp_path, monkeypatch):
    import pickle
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(Pix2PixError, match="never loaded"):
        read_npz(str(write_npz(tmp_path / "p.npz", "pickle")))


@pytest.mark.parametrize("kind", sorted(NPZ_CASES))
def test_plot_samples_refuses_a_bad_npz(tmp_path, kind):
    path = write_npz(tmp_path / f"{kind}.npz", kind)
    result = run_script("plot_samples.py", path, "-o", tmp_path / "s.png")
    assert_fails(result, path, NPZ_CASES[kind])
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("script, kind", [("train.py", "pickle"), ("train.py", "wrong_dtype"),
                                          ("translate.py", "truncated"),
                                          ("translate.py", "different_counts"),
                                          ("evaluate.py", "no_arrays"),
                                          ("evaluate.py", "not_npz")])
def test_other_scripts_refuse_a_bad_npz(tmp_path, generator_h5, script, kind):
    path = write_npz(tmp_path / f"{kind}.npz", kind)
    args = {"train.py": [path, "--out", tmp_path / "models"],
            "translate.py": [generator_h5, "--dataset", path, "-o", tmp_path / "t.png"],
            "evaluate.py": [generator_h5, path]}[script]
    result = run_script(script, *args)
    assert_fails(result, path, NPZ_CASES[kind])
    assert not (tmp_path / "t.png").exists() and not (tmp_path / "models").exists()


# ---------------------------------------------------------------------------------------------
# Models

@pytest.fixture(scope="session")
def generator_h5(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "model_000001.h5"
    save_generator(define_generator((32, 32, 3)), str(path), {"image_size": 32, "step": 1})
    return path


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


# ---------------------------------------------------------------------------------------------
# Outputs

@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "somefile.txt"
    path.write_text("keep me")
    return path


@pytest.mark.parametrize("script", ["prepare_dataset.py", "plot_samples.py", "translate.py",
                                    "translate.py --dataset", "train.py"])
def test_output_under_a_regular_file(tmp_path, a_file, tiny_npz, generator_h5, script):
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes(Image.fromarray(pair_array())))
    target = a_file / "out" / "result.png"
    args = {"prepare_dataset.py": ["--synthetic", 2, "--size", 32, "-o", a_file / "out.npz"],
            "plot_samples.py": [tiny_npz, "-o", target],
            "translate.py": [generator_h5, image, "-o", target],
            "translate.py --dataset": [generator_h5, "--dataset", tiny_npz, "-o", target],
            "train.py": [tiny_npz, "--out", a_file / "models"]}[script]
    result = run_script(script.split()[0], *args)
    assert_fails(result, a_file, "is a file, not a folder")
    assert a_file.read_text() == "keep me" and sorted(os.listdir(tmp_path)) == \
        ["photo.png", "somefile.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_output_in_a_read_only_folder(tmp_path, tiny_npz):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run_script("plot_samples.py", tiny_npz, "-o", folder / "s.png")
    finally:
        folder.chmod(0o755)
    assert_fails(result, folder / "s.png", "no permission")


@pytest.mark.parametrize("script", ["plot_samples.py", "translate.py"])
def test_output_of_an_unknown_type(tmp_path, tiny_npz, generator_h5, script):
    out = tmp_path / "out.xyz"
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes(Image.fromarray(pair_array())))
    args = [tiny_npz, "-o", out] if script == "plot_samples.py" else [generator_h5, image, "-o",
                                                                        out]
    assert_fails(run_script(script, *args), out, "unsupported file type")
    assert not out.exists()


def test_full_disk_keeps_the_previous_file(tmp_path, monkeypatch, capsys):
    """The disk fills up halfway through writing the npz: one line, old file intact, no temp."""
    import prepare_dataset
    out = tmp_path / "pairs.npz"
    save_dataset(str(out), *good_pairs(2))
    before = out.read_bytes()

    def half_then_full(file, *arrays):
        with open(file, "wb") as f:
            f.write(b"PK\x03\x04 half an archive")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez_compressed", half_then_full)
    monkeypatch.setattr(sys, "argv", ["prepare_dataset.py", "--synthetic", "2", "--size", "32",
                                      "-o", str(out), "--overwrite"])
    with pytest.raises(SystemExit) as caught:
        pix2pix.cli.run(prepare_dataset.main, prepare_dataset.build_parser())
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "No space left on device" in err
    assert out.read_bytes() == before and os.listdir(tmp_path) == ["pairs.npz"]


def test_full_disk_while_plotting(tmp_path, monkeypatch, tiny_npz, capsys):
    import matplotlib.figure
    import plot_samples
    out = tmp_path / "s.png"
    out.write_bytes(b"old plot")

    def full(self, fname, *args, **kwargs):
        open(fname, "wb").write(b"\x89PNG half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    monkeypatch.setattr(sys, "argv", ["plot_samples.py", str(tiny_npz), "-o", str(out),
                                      "--overwrite"])
    with pytest.raises(SystemExit) as caught:
        pix2pix.cli.run(plot_samples.main, plot_samples.build_parser())
    assert caught.value.code == 1
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_bytes() == b"old plot" and os.listdir(tmp_path) == ["s.png"]


def make_existing(tmp_path, script):
    """The file (or model folder) that `script` would write, already there."""
    if script == "train.py":
        (tmp_path / "models").mkdir()
        existing = tmp_path / "models" / "model_000010.h5"
    elif script == "translate.py folder":
        (tmp_path / "out").mkdir()
        existing = tmp_path / "out" / "photo.png"
    else:
        existing = tmp_path / ("out.npz" if script == "prepare_dataset.py" else "out.png")
    existing.write_bytes(b"precious")
    return existing


def overwrite_args(tmp_path, script, tiny_npz, generator_h5):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / "photo.png").write_bytes(png_bytes(Image.fromarray(pair_array())))
    return {"prepare_dataset.py": ["--synthetic", 2, "--size", 32, "-o", tmp_path / "out.npz"],
            "plot_samples.py": [tiny_npz, "-o", tmp_path / "out.png"],
            "translate.py": [generator_h5, folder / "photo.png", "-o", tmp_path / "out.png"],
            "translate.py folder": [generator_h5, folder, "-o", tmp_path / "out"],
            "translate.py --dataset": [generator_h5, "--dataset", tiny_npz, "-o",
                                       tmp_path / "out.png"],
            "train.py": [tiny_npz, "--out", tmp_path / "models", "--epochs", 1]}[script]


@pytest.mark.parametrize("script", ["prepare_dataset.py", "plot_samples.py", "translate.py",
                                    "translate.py folder", "translate.py --dataset", "train.py"])
def test_existing_output_is_not_overwritten(tmp_path, tiny_npz, generator_h5, script):
    existing = make_existing(tmp_path, script)
    args = overwrite_args(tmp_path, script, tiny_npz, generator_h5)
    result = run_script(script.split()[0], *args)
    where = existing.parent if script == "train.py" else existing
    assert_fails(result, where, "--overwrite")
    assert existing.read_bytes() == b"precious" and not leftovers(existing.parent)


@pytest.mark.parametrize("script", ["prepare_dataset.py", "plot_samples.py"])
def test_overwrite_flag_replaces_the_output(tmp_path, tiny_npz, generator_h5, script):
    existing = make_existing(tmp_path, script)
    result = run_script(script, *overwrite_args(tmp_path, script, tiny_npz, generator_h5),
                        "--overwrite")
    assert result.returncode == 0, result.stderr
    assert existing.read_bytes() != b"precious" and not leftovers(tmp_path)


def test_train_overwrite_flag_passes_the_check(tmp_path):
    """With --overwrite the old models are no obstacle: the next problem (the data) is reported."""
    make_existing(tmp_path, "train.py")
    missing = tmp_path / "missing.npz"
    result = run_script("train.py", missing, "--out", tmp_path / "models", "--overwrite")
    assert_fails(result, missing, "no such file")


def test_train_refuses_held_out_pairs_of_another_size(tmp_path, tiny_npz):
    """--val of another size than the training pairs: one line, before anything is written."""
    val = tmp_path / "val_64.npz"
    save_dataset(str(val), *synthetic_dataset(2, 64, seed=1))
    result = run_script("train.py", tiny_npz, "--val", val, "--out", tmp_path / "models")
    assert_fails(result, val, "64x64", "32x32")
    assert not (tmp_path / "models").exists()


# ---------------------------------------------------------------------------------------------
# Usage errors and interruptions

@pytest.mark.parametrize("script", SCRIPTS)
def test_usage_error_is_exit_2(script):
    result = run_script(script, "--no-such-option")
    assert result.returncode == 2, result.stderr
    assert "usage:" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_is_exit_130(monkeypatch, capsys):
    import evaluate

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "argv", ["evaluate.py", "m.h5", "d.npz"])
    with pytest.raises(SystemExit) as caught:
        pix2pix.cli.run(interrupted, evaluate.build_parser())
    assert caught.value.code == 130 and capsys.readouterr().err.count("\n") == 1


def test_unexpected_errors_are_one_line_too(monkeypatch, capsys):
    import evaluate

    def buggy(args):
        raise ValueError("something\nspread over\nthree lines")

    monkeypatch.setattr(sys, "argv", ["evaluate.py", "m.h5", "d.npz"])
    with pytest.raises(SystemExit) as caught:
        pix2pix.cli.run(buggy, evaluate.build_parser())
    err = capsys.readouterr().err
    assert caught.value.code == 1 and err.count("\n") == 1 and "ValueError" in err
    assert "--debug" in err

