"""The package's layout: modules short enough to read at once, layers that import only the layers
below them (.importlinter, checked by `make test` with lint-imports), and no TensorFlow where none
is needed."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "pix2pix").rglob("*.py"))
MAX_LINES = 300


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_module_is_short(path):
    lines = len(path.read_text().splitlines())
    assert lines < MAX_LINES, f"{path.name} has {lines} lines; split it by who reads it"


def test_the_layers_hold():
    lint = pathlib.Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module", ["pix2pix.authors.pth", "pix2pix.authors.published",
                                    "pix2pix.cli", "pix2pix.data.datasets", "pix2pix.data.prepare",
                                    "pix2pix.inference.plotting"])
def test_modules_that_need_no_tensorflow_do_not_import_it(module):
    code = f"import sys, {module}; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.split() == ["False", "False"], result.stderr[-2000:]
