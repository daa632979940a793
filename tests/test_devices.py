"""Where the work runs: one line saying so, and one warning where an NVIDIA driver is loaded but
TensorFlow sees no GPU."""
import pytest

from conftest import run_script
from pix2pix import backend
from pix2pix.backend import tf


@pytest.mark.slow
def test_the_scripts_say_where_they_run(tmp_path, tiny_npz):
    where = "the CPU" if not tf.config.list_physical_devices("GPU") else "GPU:0"
    trained = run_script("train.py", tiny_npz, "--epochs", 1, "--ngf", 4, "--ndf", 4,
                         "--out", tmp_path / "run")
    assert trained.returncode == 0, trained.stderr
    assert f"training on {where}" in trained.stdout
    translated = run_script("translate.py", tmp_path / "run" / "model_000008.h5", "--dataset",
                            tiny_npz, "--index", 0, "-o", tmp_path / "plot.png")
    assert translated.returncode == 0, translated.stderr
    assert translated.stdout.startswith(f"running on {where}")


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="a GPU is visible")
@pytest.mark.parametrize("visible, warned", [(None, True), ("", False), ("-1", False)])
def test_a_driver_without_a_gpu_is_one_warning(tmp_path, monkeypatch, capsys, visible, warned):
    driver = tmp_path / "version"
    driver.write_text("NVRM version: a driver, but no CUDA libraries for TensorFlow")
    monkeypatch.setattr(backend, "NVIDIA_DRIVER", str(driver))
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:  # GPUs hidden on purpose: no warning
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert backend.start_devices() == "the CPU"
    err = capsys.readouterr().err
    assert err.count("\n") == (1 if warned else 0)
    if warned:
        assert err.startswith("warning: an NVIDIA driver is loaded, but this TensorFlow sees no "
                              "GPU") and "requirements-gpu.txt" in err
    monkeypatch.setattr(backend, "NVIDIA_DRIVER", str(tmp_path / "absent"))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    backend.start_devices()
    assert capsys.readouterr().err == ""
