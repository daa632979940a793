import http.server
import io
import os
import tarfile
import threading

import numpy as np
import pytest
from PIL import Image

from pix2pix.data.datasets import load_images, read_npz
from pix2pix.errors import Pix2PixError
from pix2pix.data.images import load_pair, scale_images, unscale_images
from pix2pix.data.prepare import download_dataset, save_dataset
from pix2pix.data.synthetic import synthetic_dataset


def write_pair(path, width=64, height=32, mode="RGB", seed=0):
    """A side-by-side image whose left half is dark and right half bright."""
    rng = np.random.default_rng(seed)
    left = rng.integers(0, 100, (height, width // 2, 3), dtype=np.uint8)
    right = rng.integers(156, 256, (height, width - width // 2, 3), dtype=np.uint8)
    Image.fromarray(np.concatenate([left, right], axis=1)).convert(mode).save(path)


def test_npz_round_trip(tmp_path):
    src, tar = synthetic_dataset(5, 32, seed=0)
    path = tmp_path / "pairs.npz"
    save_dataset(str(path), src, tar)
    loaded_src, loaded_tar = read_npz(str(path))
    assert loaded_src.dtype == np.uint8 and loaded_src.shape == (5, 32, 32, 3)
    assert np.array_equal(loaded_src, src) and np.array_equal(loaded_tar, tar)
    assert os.listdir(tmp_path) == ["pairs.npz"]  # no temporary file left beside it


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "pairs.npz"
    save_dataset(str(path), *synthetic_dataset(2, 32, seed=0))
    before = path.read_bytes()
    class Unreadable:  # fails halfway through the write, after arr_0 is written
        def __array__(self, *args, **kwargs):
            raise RuntimeError("disk trouble")

    with pytest.raises(RuntimeError):
        save_dataset(str(path), np.zeros((2, 32, 32, 3), np.uint8), Unreadable())
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["pairs.npz"]


def test_scaling_round_trip():
    images = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    scaled = scale_images(images)
    assert scaled.dtype == np.float32 and scaled.min() == -1.0 and scaled.max() == 1.0
    assert np.array_equal(unscale_images(scaled), images)


def test_synthetic_dataset_is_deterministic_and_paired():
    a = synthetic_dataset(4, 64, seed=7)
    b = synthetic_dataset(4, 64, seed=7)
    c = synthetic_dataset(4, 64, seed=8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    src, tar = a
    assert src.shape == tar.shape == (4, 64, 64, 3) and src.dtype == np.uint8
    assert not np.array_equal(src, tar)
    # Sources are textured, targets flat: far more distinct colours in a source.
    def colours(image):
        return len(np.unique(image.reshape(-1, 3), axis=0))

    assert colours(src[0]) > 5 * colours(tar[0])


def test_pair_is_split_at_half_width_and_resized(tmp_path):
    path = tmp_path / "pair.jpg"
    write_pair(path, 1200, 600)  # the maps set's size
    left, right = load_pair(str(path), 256)
    assert left.shape == right.shape == (256, 256, 3) and left.dtype == np.uint8
    assert left.mean() < 80 and right.mean() > 170


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_other_image_modes_keep_their_channels_and_depth(tmp_path, mode):
    path = tmp_path / "pair.png"
    if mode == "I;16":
        wide = np.concatenate([np.full((32, 32), 1000), np.full((32, 32), 60000)], 1)
        Image.fromarray(wide.astype(np.uint16)).save(path)
    else:
        write_pair(path, mode=mode)
    left, right = load_pair(str(path), 32)
    assert left.shape == (32, 32, 1 if mode in ("L", "I;16") else 3)  # grayscale stays one
    assert left.dtype == (np.uint16 if mode == "I;16" else np.uint8)
    assert left.mean() < right.mean()


def test_folder_skips_corrupt_files_and_keeps_order(tmp_path, capsys):
    for i in range(3):
        write_pair(tmp_path / f"{i}.jpg", seed=i)
    (tmp_path / "1b.jpg").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    src, tar = load_images(str(tmp_path), 32)
    assert src.shape == (3, 32, 32, 3)
    assert "1b.jpg" in capsys.readouterr().err
    assert np.array_equal(src[2], load_pair(str(tmp_path / "2.jpg"), 32)[0])


def test_folder_without_usable_images_is_an_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(Pix2PixError, match="none of its 1 images"):
        load_images(str(tmp_path), 32)
    with pytest.raises(Pix2PixError, match="no such folder"):
        load_images(str(tmp_path / "missing"), 32)


@pytest.fixture
def dataset_server(tmp_path):
    """A local HTTP server with <name>.tar.gz laid out as the authors' server has them."""
    root = tmp_path / "server"
    root.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for split, count in (("train", 3), ("val", 2)):
            for i in range(count):
                image = tmp_path / f"{i}.jpg"
                write_pair(image, seed=i)
                tar.add(image, arcname=f"facades/{split}/{i}.jpg")
    (root / "facades.tar.gz").write_bytes(buffer.getvalue())
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_unpacks_whole_folder(tmp_path, dataset_server):
    data_dir = tmp_path / "data"
    folder = download_dataset("facades", str(data_dir), dataset_server)
    assert folder == str(data_dir / "facades")
    assert sorted(os.listdir(data_dir)) == ["facades"]  # no archive or temporary folder left
    assert sorted(os.listdir(data_dir / "facades" / "train")) == ["0.jpg", "1.jpg", "2.jpg"]


def test_download_of_a_missing_dataset_leaves_nothing(tmp_path, dataset_server):
    with pytest.raises(Pix2PixError, match="HTTP 404"):
        download_dataset("maps", str(tmp_path / "data"), dataset_server)
    assert os.listdir(tmp_path / "data") == []


def test_download_unreachable_server_is_one_clear_error(tmp_path):
    with pytest.raises(Pix2PixError, match="cannot download"):
        download_dataset("maps", str(tmp_path / "data"), "http://127.0.0.1:9")
