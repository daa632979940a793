"""The authors' pretrained generators: downloaded from a local server standing in for theirs,
converted without torch, kept as H5, and used like any trained model."""
import http.server
import json
import os
import pickle
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from conftest import run_script
from pix2pix.errors import Pix2PixError
from pix2pix.inference.fullsize import generator_for_shape
from pix2pix.inference.generator import load_generator, translate_images
from pix2pix.authors.pretrained import pretrained_generator
from pix2pix.data.images import scale_images, unscale_images
from pix2pix.data.prepare import save_dataset
from pix2pix.data.synthetic import synthetic_dataset

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "reference")


class Evil:
    def __reduce__(self):
        return os.system, ("touch pwned",)


@pytest.fixture
def model_server(tmp_path):
    """The authors' models-pytorch folder, with small networks of their structure in it."""
    root = tmp_path / "server"
    root.mkdir()
    shutil.copy(os.path.join(FIXTURES, "unet_256_ngf4.pth"), root / "sat2map.pth")
    shutil.copy(os.path.join(FIXTURES, "unet_256_ngf4_legacy.pth"), root / "map2sat.pth")
    shutil.copy(os.path.join(FIXTURES, "patchgan70_64_ndf8.pth"), root / "edges2shoes.pth")
    data = (root / "sat2map.pth").read_bytes()
    (root / "day2night.pth").write_bytes(data[:len(data) // 2])  # truncated
    (root / "facades_label2photo.pth").write_bytes(pickle.dumps({"x": Evil()}))
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("name, reverse", [("sat2map", False), ("map2sat", True)])
def test_a_pretrained_generator_translates_as_the_authors_network(tmp_path, model_server, name,
                                                                   reverse):
    path = pretrained_generator(name, str(tmp_path / "models"), model_server)
    assert path == str(tmp_path / "models" / "pretrained" / f"{name}.h5")
    assert os.listdir(tmp_path / "models" / "pretrained") == [f"{name}.h5"]  # nothing else left
    g_model, config = load_generator(path)
    assert config["image_size"] == 256 and config["reverse"] == reverse
    assert config["pretrained"] == name and config["dataset"] == "maps"
    io = np.load(os.path.join(FIXTURES, "unet_256_ngf4_io.npz"))
    np.testing.assert_allclose(translate_images(g_model, io["x"], "deterministic"),
                               io["y_batch_stats"], atol=1e-5)
    # Kept: the next use needs no server.
    assert pretrained_generator(name, str(tmp_path / "models"), "http://127.0.0.1:9") == path


@pytest.mark.parametrize("name, message", [
    ("day2night", "a damaged or truncated zip"),
    ("facades_label2photo", "refused, its pickle asks for posix.system"),
    ("edges2shoes", "not one of the authors' generators"),
])
def test_bad_files_are_refused_by_name_and_leave_nothing(tmp_path, model_server, name, message):
    os.chdir(tmp_path)
    with pytest.raises(Pix2PixError, match=message) as error:
        pretrained_generator(name, str(tmp_path / "models"), model_server)
    assert f"{model_server}/{name}.pth" in str(error.value)
    assert os.listdir(tmp_path / "models" / "pretrained") == []
    assert not os.path.exists(tmp_path / "pwned")


def test_translate_with_a_pretrained_name(tmp_path, model_server):
    Image.new("RGB", (300, 200), (120, 60, 30)).save(tmp_path / "photo.jpg")
    result = run_script("translate.py", "--pretrained", "sat2map", "photo.jpg", "-o", "map.png",
                        "--base-url", model_server, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "map.png").size == (256, 256)
    assert os.path.isfile(tmp_path / "models" / "pretrained" / "sat2map.h5")
    # Offline, a name not yet converted fails in one line.
    result = run_script("translate.py", "--pretrained", "map2sat", "photo.jpg", "-o", "sat.png",
                        "--base-url", "http://127.0.0.1:9", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot download" in result.stderr


def test_a_model_file_or_a_pretrained_name_not_both(tmp_path):
    for script, args in (("translate.py", ["g.h5", "photo.jpg", "--pretrained", "sat2map"]),
                         ("evaluate.py", ["g.h5", "d.npz", "--pretrained", "sat2map"]),
                         ("export.py", ["g.h5", "--pretrained", "sat2map"]),
                         ("serve.py", ["g.h5", "--pretrained", "sat2map"]),
                         ("translate.py", []), ("evaluate.py", []), ("export.py", []),
                         ("serve.py", [])):
        result = run_script(script, *args, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "--pretrained NAME" in result.stderr
    assert not os.path.exists(tmp_path / "models")  # nothing downloaded


@pytest.mark.slow
def test_evaluate_with_a_pretrained_name_reads_its_direction(tmp_path, model_server):
    """map2sat translates right halves into left ones: evaluate.py takes that from the converted
    model's configuration, as it does from a trained one's."""
    save_dataset(str(tmp_path / "maps_val.npz"), *synthetic_dataset(2, 256, seed=0))
    result = run_script("evaluate.py", "--pretrained", "map2sat", "maps_val.npz", "--json",
                        "scores.json", "--base-url", model_server, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "scores.json").read_text())
    assert report["reverse"] is True and report["pairs"] == 2
    assert report["model"] == os.path.join("models", "pretrained", "map2sat.h5")


@pytest.mark.slow
def test_horse2zebra_is_a_cyclegan_resnet_and_translates_a_full_width_file(tmp_path,
                                                                            model_server):
    """A CycleGAN generator (ResNet, instance norm; here the fixture of that structure, served
    as horse2zebra.pth) converts and translates a 302x200 photo at its own size as the
    authors' network does: the converted network reproduces theirs (the fixture's outputs),
    and the file's translation is that network's output on the photo, reflect-padded to 304x200
    (4 must divide each side) and cropped back."""
    shutil.copy(os.path.join(FIXTURES, "resnet_9blocks_64_ngf4_instance_oldkeys.pth"),
                tmp_path / "server" / "horse2zebra.pth")
    photo = np.random.default_rng(0).integers(0, 256, (200, 302, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "horse.png")
    result = run_script("translate.py", "--pretrained", "horse2zebra", "horse.png", "--full-size",
                        "-o", "zebra.png", "--mode", "eval", "--base-url", model_server,
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    g_model, config = load_generator(str(tmp_path / "models" / "pretrained" / "horse2zebra.h5"))
    assert (config["netG"], config["norm"], config["pretrained"]) == \
        ("resnet_9blocks", "instance", "horse2zebra")
    assert "CycleGAN" in config["translates"] and config["source"].endswith("/horse2zebra.pth")
    io = np.load(os.path.join(FIXTURES, "resnet_9blocks_64_ngf4_instance_oldkeys_io.npz"))
    shaped = generator_for_shape(g_model, 64, 64)
    np.testing.assert_allclose(translate_images(shaped, io["x"], "eval"), io["y"], atol=1e-5)
    padded = np.pad(photo, ((0, 0), (1, 1), (0, 0)), mode="reflect")
    expected = translate_images(generator_for_shape(g_model, 200, 304),
                                scale_images(padded[np.newaxis]), "eval")[0][:, 1:303]
    zebra = np.asarray(Image.open(tmp_path / "zebra.png"))
    assert zebra.shape == photo.shape
    assert np.abs(zebra.astype(int) - unscale_images(expected).astype(int)).max() <= 1
