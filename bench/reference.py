"""The authors' training step and G forward pass, timed in PyTorch, for side-by-side benchmarks.

`../shared/bench/reference_step.py` builds the authors' networks and their optimize_parameters()
in PyTorch and prints seconds per step. It runs in its own process, under a Python that has torch
(--torch-python, or $TORCH_PYTHON): torch is a benchmark tool here, never a project dependency.
"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "..", "shared", "bench", "reference_step.py")


def add_torch_flag(parser):
    parser.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON"),
                        help="a Python with torch, to run the reference (default $TORCH_PYTHON; "
                             "without one the reference is skipped)")


def reference_seconds(python, size, steps, inference=False):
    """Seconds per reference step (or G forward pass), or None where it cannot run here."""
    if not python or not os.path.isfile(REFERENCE):
        return None
    command = [python, REFERENCE, "--size", str(size), "--steps", str(steps)]
    result = subprocess.run(command + (["--inference"] if inference else []),
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]
