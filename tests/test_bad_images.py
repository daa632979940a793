"""Bad images, one by one and in folders, made here (nothing binary is committed), and how
prepare_dataset.py and translate.py answer them: a bad image is refused by name; in a folder it is
named and skipped and the rest go on; other modes are converted; a folder without images is
refused."""
import errno
import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from conftest import assert_fails, leftovers, pair_array, png_bytes, run_script
from pix2pix.data.datasets import read_npz
from pix2pix.errors import Pix2PixError
from pix2pix.data.images import MAX_IMAGE_PIXELS, load_pair, open_rgb


# ---------------------------------------------------------------------------------------------
# The corpus

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
    channels = 1 if name in ("grayscale.png", "sixteen_bit.png") else 3  # grayscale stays one
    assert left.shape == right.shape == (32, 32, channels) and left.mean() < right.mean()


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
    eight_bit = {name: make for name, make in CONVERTED_IMAGES.items() if name != "sixteen_bit.png"}
    folder = write_files(tmp_path / "pairs", dict(BAD_PAIRS, **eight_bit, **ODD_SHAPED))
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
    assert len(src) == len(eight_bit) + len(ODD_SHAPED) and src.shape[3] == 3  # gray widened
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
