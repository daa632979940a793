"""Bad datasets (npz arrays), made here, and how every script that reads one answers: one line
naming the file and what is wrong, no traceback, nothing written; an npz of Python objects is
never unpickled."""
import numpy as np
import pytest

from conftest import assert_fails, good_pairs, run_script
from pix2pix.data.datasets import read_npz
from pix2pix.errors import Pix2PixError
from pix2pix.data.prepare import save_dataset
from pix2pix.data.synthetic import synthetic_dataset


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


def test_train_refuses_held_out_pairs_of_another_size(tmp_path, tiny_npz):
    """--val of another size than the training pairs: one line, before anything is written."""
    val = tmp_path / "val_64.npz"
    save_dataset(str(val), *synthetic_dataset(2, 64, seed=1))
    result = run_script("train.py", tiny_npz, "--val", val, "--out", tmp_path / "models")
    assert_fails(result, val, "64x64", "32x32")
    assert not (tmp_path / "models").exists()
