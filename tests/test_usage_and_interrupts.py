"""Usage errors (exit 2, argparse's), Ctrl-C (exit 130) and unexpected errors (exit 1, one line
that points to --debug) in every script."""
import sys

import pytest

import pix2pix.cli
from conftest import run_script

SCRIPTS = ["prepare_dataset.py", "plot_samples.py", "train.py", "translate.py", "evaluate.py",
           "export.py", "serve.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_usage_error_is_exit_2(script):
    result = run_script(script, "--no-such-option")
    assert result.returncode == 2, result.stderr
    assert "usage:" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_is_exit_130(monkeypatch, capsys):
    import evaluate

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "argv", ["evaluate.py", "m.h5", "d.npz"])
    with pytest.raises(SystemExit) as caught:
        pix2pix.cli.run(interrupted, evaluate.build_parser())
    assert caught.value.code == 130 and capsys.readouterr().err.count("\n") == 1


def test_unexpected_errors_are_one_line_too(monkeypatch, capsys):
    import evaluate

    def buggy(args):
        raise ValueError("something\nspread over\nthree lines")

    monkeypatch.setattr(sys, "argv", ["evaluate.py", "m.h5", "d.npz"])
    with pytest.raises(SystemExit) as caught:
        pix2pix.cli.run(buggy, evaluate.build_parser())
    err = capsys.readouterr().err
    assert caught.value.code == 1 and err.count("\n") == 1 and "ValueError" in err
    assert "--debug" in err
