"""Outputs that cannot or must not be written: under a regular file, in a read-only folder, of
an unknown type, on a full disk, already there without --overwrite. Each is refused by name and
any older file is kept intact, with no temporary file left behind."""
import errno
import os
import sys

import numpy as np
import pytest
from PIL import Image

import pix2pix.cli
from conftest import assert_fails, good_pairs, leftovers, pair_array, png_bytes, run_script
from pix2pix.data.prepare import save_dataset


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
