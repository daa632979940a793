"""The generators the authors published: what each translates and where it is kept here.

The authors published the generators of their paper's PyTorch reimplementation as state dicts
(`<name>.pth`); pix2pix/authors/pretrained.py downloads and converts one the first time it is
named. This table needs no TensorFlow, so that every script's --help can list it.
"""
import os


PRETRAINED_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch"
# name -> (the dataset it was trained on, whether it translates its right halves into the left
# ones, as `train.py --reverse`, and what it translates)
PRETRAINED = {
    "facades_label2photo": ("facades", True, "label map -> facade photo"),
    "sat2map": ("maps", False, "satellite photo -> map"),
    "map2sat": ("maps", True, "map -> satellite photo"),
    "edges2shoes": ("edges2shoes", False, "edges -> shoe photo"),
    "day2night": ("night2day", True, "day photo -> night photo"),
}


def pretrained_path(name, models_dir="models"):
    """Where the converted generator `name` is kept: models/pretrained/<name>.h5."""
    return os.path.join(models_dir, "pretrained", f"{name}.h5")
