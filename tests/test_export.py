"""export.py: each exported file, run by its own runtime, translates as `translate_images` does."""
import os

import keras
import numpy as np
import pytest

from conftest import randomize_batchnorms, run_process, run_script
from pix2pix.inference.export import EXTENSIONS, export_generator, float32_copy, inference_model
from pix2pix.inference.generator import load_generator, save_generator, translate_images
from pix2pix.model.networks import define_generator, set_precision

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A 32x32 generator whose every weight is non-trivial: random BatchNorm scales, offsets and
    moving averages, so that the deterministic and eval modes give clearly different images."""
    rng = np.random.default_rng(1)
    keras.utils.set_random_seed(1)  # the same weights, and so the same differences, every run
    g_model = define_generator((32, 32, 3))
    randomize_batchnorms(g_model, rng)
    path = tmp_path_factory.mktemp("export") / "g.h5"
    save_generator(g_model, str(path), {"size": 32})
    return path


@pytest.fixture(scope="module")
def images():
    """Two different images: each must get its own statistics, not the batch's."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    x[1] = 0.5 * x[1] + 0.3  # another mean and spread than the first
    return x


@pytest.fixture(scope="module")
def expected(model_file, images):
    g_model, _ = load_generator(str(model_file))
    return {mode: translate_images(g_model, images, mode) for mode in ("deterministic", "eval")}


def run_saved_model(path, x):
    import tensorflow as tf
    loaded = tf.saved_model.load(path)  # kept in a name: the function needs its variables alive
    return loaded.serve(x).numpy()


def run_onnx(path, x):
    import onnxruntime
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def run_tflite(path, x):
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=path)
    source = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(source, x.shape)  # exported with a free batch size
    interpreter.allocate_tensors()
    interpreter.set_tensor(source, x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


RUNTIMES = {"saved_model": run_saved_model, "onnx": run_onnx, "tflite": run_tflite}


def test_the_two_modes_differ(expected):
    # Otherwise the golden tests below could not tell the modes apart.
    assert np.abs(expected["deterministic"] - expected["eval"]).max() > 0.1


def test_the_inference_model_matches_before_any_export(model_file, images, expected):
    g_model, _ = load_generator(str(model_file))
    for mode in ("deterministic", "eval"):
        out = np.asarray(inference_model(g_model, mode)(images, training=False))
        assert np.abs(out - expected[mode]).max() < TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["deterministic", "eval"])
@pytest.mark.parametrize("fmt", ["saved_model", "onnx", "tflite"])
def test_exported_model_translates_as_translate_images(model_file, images, expected, tmp_path,
                                                        fmt, mode):
    out_path = str(tmp_path / ("exported" + EXTENSIONS.get(fmt, "")))
    # One case in a new process, as a user runs it: there export.py chooses the pure-Python
    # protobuf (see there), which this process, with TensorFlow already loaded, cannot.
    run = run_process if (fmt, mode) == ("onnx", "deterministic") else run_script
    result = run("export.py", model_file, "--format", fmt, "--mode", mode, "-o", out_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert os.listdir(tmp_path) == ["exported" + EXTENSIONS.get(fmt, "")]  # no temporary left
    out = RUNTIMES[fmt](out_path, images)
    assert out.shape == images.shape and out.dtype == np.float32
    difference = np.abs(out - expected[mode]).max()
    print(f"{fmt} {mode}: largest difference {difference:.2e}")
    assert difference < TOLERANCE


def test_paper_mode_is_not_exported(model_file, tmp_path):
    g_model, _ = load_generator(str(model_file))
    with pytest.raises(ValueError, match="deterministic, eval, got 'paper'"):
        export_generator(g_model, str(tmp_path / "g"), "saved_model", "paper")
    assert os.listdir(tmp_path) == []


def test_a_bfloat16_generator_is_exported_in_float32():
    """ONNX export requires float32 throughout: the copy computes in float32, same weights."""
    set_precision("bfloat16")
    g_model = define_generator((32, 32, 3))
    set_precision("float32")  # as export.py runs: the loaded model keeps its layers' policy
    copy = float32_copy(g_model)
    assert "bfloat16" in {layer.compute_dtype for layer in g_model.layers}
    assert {layer.compute_dtype for layer in copy.layers} == {"float32"}
    assert all(np.array_equal(a, b) for a, b in zip(g_model.get_weights(), copy.get_weights()))


def test_existing_output_refused_without_overwrite(model_file, tmp_path):
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "keep.txt").write_text("mine")
    onnx_file = tmp_path / "g.onnx"
    onnx_file.write_text("old")
    for fmt, out in [("saved_model", saved), ("onnx", onnx_file)]:
        result = run_script("export.py", model_file, "--format", fmt, "-o", out)
        assert result.returncode == 1
        assert "already exists; add --overwrite" in result.stderr
    # --overwrite replaces a SavedModel, never a folder holding something else.
    result = run_script("export.py", model_file, "--overwrite", "-o", saved)
    assert result.returncode == 1 and "holds no SavedModel" in result.stderr
    assert (saved / "keep.txt").read_text() == "mine" and onnx_file.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["g.onnx", "saved"]


@pytest.mark.slow
def test_overwrite_replaces_a_saved_model(model_file, tmp_path):
    out = tmp_path / "saved"
    assert run_script("export.py", model_file, "-o", out).returncode == 0
    result = run_script("export.py", model_file, "-o", out, "--overwrite", "--mode", "eval")
    assert result.returncode == 0, result.stderr
    assert os.path.isfile(out / "saved_model.pb") and os.listdir(tmp_path) == ["saved"]


@pytest.mark.parametrize("fmt", ["saved_model", "tflite"])
def test_failed_export_leaves_the_old_output_and_nothing_else(model_file, tmp_path, monkeypatch,
                                                              fmt):
    out = tmp_path / ("out" + EXTENSIONS.get(fmt, ""))
    old = out / "saved_model.pb" if fmt == "saved_model" else out
    old.parent.mkdir(exist_ok=True)
    old.write_text("old")

    def fail_halfway(self, path, **kwargs):
        with open(os.path.join(path, "saved_model.pb") if os.path.isdir(path) else path, "w") as f:
            f.write("partial")
        raise RuntimeError("the converter failed")

    monkeypatch.setattr(keras.Model, "export", fail_halfway)
    result = run_script("export.py", model_file, "--format", fmt, "-o", out, "--overwrite")
    assert result.returncode == 1 and "the converter failed" in result.stderr
    assert old.read_text() == "old" and os.listdir(tmp_path) == [out.name]


def test_bad_model_is_one_line_and_leaves_nothing(tmp_path):
    not_a_model = tmp_path / "notes.h5"
    not_a_model.write_text("not a model")
    for model, message in [(tmp_path / "missing.h5", "no such model file"),
                           (not_a_model, "not an H5 model file")]:
        result = run_script("export.py", model, "--format", "onnx", "-o", tmp_path / "g.onnx")
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1 and message in result.stderr
    assert os.listdir(tmp_path) == ["notes.h5"]


def test_wrong_extension_refused(model_file, tmp_path):
    result = run_script("export.py", model_file, "--format", "tflite", "-o", tmp_path / "g.onnx")
    assert result.returncode == 1 and "use one of .tflite" in result.stderr


def test_unknown_format_is_a_usage_error(model_file):
    result = run_script("export.py", model_file, "--format", "pt2")
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.fixture(scope="module")
def resnet_file(tmp_path_factory):
    """The authors' ResNet generator (6 blocks, with dropout, BatchNorm with random statistics):
    reflection padding and the cropped transposed convolutions must export too."""
    rng = np.random.default_rng(3)
    keras.utils.set_random_seed(3)
    g_model = define_generator((32, 32, 3), ngf=4, netG="resnet_6blocks")
    randomize_batchnorms(g_model, rng)
    path = tmp_path_factory.mktemp("export") / "resnet.h5"
    save_generator(g_model, str(path), {"image_size": 32, "netG": "resnet_6blocks"})
    return path


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["saved_model", "onnx", "tflite"])
def test_an_exported_resnet_translates_as_translate_images(resnet_file, images, tmp_path, fmt):
    g_model, _ = load_generator(str(resnet_file))
    expected = {mode: translate_images(g_model, images, mode) for mode in ("deterministic", "eval")}
    assert np.abs(expected["deterministic"] - expected["eval"]).max() > 0.1
    for mode in ("deterministic", "eval"):
        out_path = str(tmp_path / (mode + EXTENSIONS.get(fmt, "")))
        result = run_script("export.py", resnet_file, "--format", fmt, "--mode", mode,
                            "-o", out_path)
        assert result.returncode == 0, result.stderr
        out = RUNTIMES[fmt](out_path, images)
        assert np.abs(out - expected[mode]).max() < TOLERANCE, mode
