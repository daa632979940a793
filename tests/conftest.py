import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pix2pix.data import save_dataset, synthetic_dataset  # noqa: E402


def run_script(script, *args, cwd=None):
    """Run one of the repository's scripts as a user would; returns the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="session")
def tiny_npz(tmp_path_factory):
    """8 synthetic pairs at 32x32."""
    path = tmp_path_factory.mktemp("data") / "synthetic_32.npz"
    save_dataset(str(path), *synthetic_dataset(8, 32, seed=0))
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)
