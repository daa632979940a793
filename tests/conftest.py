import contextlib
import io
import os
import runpy
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pix2pix.data.prepare import save_dataset  # noqa: E402
from pix2pix.data.synthetic import synthetic_dataset  # noqa: E402
from pix2pix.inference.generator import save_generator  # noqa: E402
from pix2pix.model.layers import BatchNorm  # noqa: E402
from pix2pix.model.networks import define_generator, set_precision  # noqa: E402


def run_process(script, *args, cwd=None):
    """Run one of the repository's scripts in a new Python process, exactly as a user would."""
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def run_script(script, *args, cwd=None):
    """Run a script's command line in this process: the same parsing, error handling and exit
    code as `run_process`, without paying TensorFlow's start-up (seconds) for every case."""
    module = runpy.run_path(os.path.join(ROOT, script), run_name="script_under_test")
    argv = [script, *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    old_argv, old_cwd = sys.argv, os.getcwd()
    code = 0
    try:
        sys.argv = argv
        if cwd:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            module["run"](module["main"], module["build_parser"]())
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


# The exactness tests (a step against the transcribed equations, the XLA step against the graph
# step, two replicas against one) train 32 px networks of width 8 on pairs in the synthetic
# task's first aerial colours, not the demo's: their tolerances hold only where no gradient
# sits near Adam's epsilon (1e-8). At that size half of G's gradients are exactly zero (dead
# ReLU inputs: harmless, the update is zero) and the rest spread over seven decades; Adam's
# first update is lr * g / (|g| + 1e-8), so a g of a few 1e-9 moves its weight by a fraction of
# lr set by g's rounding. The demo's colours give decoder_2/kernel[2, 2, 6, 71] a first
# gradient of 4.2e-9 (float64), computed in float32 as 1.3e-9 by the compiled step and 0.7e-9
# by the transcription: 2e-4 * (1.3/11.3 - 0.7/10.7) = 1.06e-5 apart, the whole failure; these
# colours' smallest nonzero first gradient is 4.8e-8. A different computation would not leave
# the losses equal to 1e-5 as it does. The bounds stay; the inputs are chosen well-conditioned.
EXACTNESS_AERIAL_COLOURS = {"land": (120, 115, 90), "water": (30, 60, 90), "park": (45, 90, 40),
                            "block": (150, 140, 130), "road": (70, 70, 75),
                            "main road": (95, 90, 85)}


def exactness_pairs(n, size, seed):
    """Synthetic pairs for the exactness tests, in EXACTNESS_AERIAL_COLOURS."""
    return synthetic_dataset(n, size, seed, EXACTNESS_AERIAL_COLOURS)


@pytest.fixture(scope="session")
def tiny_npz(tmp_path_factory):
    """8 synthetic pairs at 32x32."""
    path = tmp_path_factory.mktemp("data") / "synthetic_32.npz"
    save_dataset(str(path), *synthetic_dataset(8, 32, seed=0))
    return path


@pytest.fixture(autouse=True)
def float32_afterwards():
    """A test that builds bfloat16 networks (`set_precision`) must not leave the global Keras
    policy set for the tests after it. float32 means float32 on a GPU too: TensorFloat-32 off,
    so that the exactness tests compare what they say."""
    set_precision("float32")
    yield
    set_precision("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------------------------------
# Bad input (test_bad_*.py, test_usage_and_interrupts.py): every failure is exit status 1 with
# one line on stderr naming the file and what is wrong, no traceback and no output file left
# behind; a usage error is exit status 2 (argparse's).

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


def good_pairs(n=3, size=32):
    return synthetic_dataset(n, size, seed=0)


@pytest.fixture(scope="session")
def generator_h5(tmp_path_factory):
    """An untrained 32x32 generator, saved as train.py saves one."""
    path = tmp_path_factory.mktemp("models") / "model_000001.h5"
    save_generator(define_generator((32, 32, 3)), str(path), {"image_size": 32, "step": 1})
    return path


def randomize_batchnorms(g, rng):
    """Scales, offsets and moving averages unlike their initial values, so each mode shows."""
    for layer in g.layers:
        if isinstance(layer, BatchNorm):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n))
            layer.beta.assign(rng.normal(0, 0.2, n))
            layer.moving_mean.assign(rng.normal(0, 0.05, n))
            layer.moving_variance.assign(rng.uniform(0.02, 0.2, n))
