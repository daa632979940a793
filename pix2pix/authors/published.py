"""The generators the authors published: what each translates and where it is kept here.

The authors published the generators of their paper's PyTorch reimplementation, and those of
CycleGAN (Zhu et al. 2017, the same code base: ResNet generators with instance normalization),
as state dicts (`<file>.pth`); pix2pix/authors/pretrained.py downloads and converts one the
first time it is named, reading its structure from the file. This table needs no TensorFlow, so
that every script's --help can list it.
"""
import os
from dataclasses import dataclass

PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch"
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models"


@dataclass(frozen=True)
class Published:
    file: str  # <file>.pth in the authors' folder
    folder: str  # the authors' folder of such files
    dataset: str  # what it was trained on
    reverse: bool  # translates a pair's right half into its left one, as `train.py --reverse`
    translates: str


def pix2pix(file, dataset, reverse, translates):
    return Published(file, PIX2PIX_URL, dataset, reverse, translates)


def cyclegan(file, dataset, reverse, translates):
    return Published(file, CYCLEGAN_URL, dataset, reverse, translates + " (CycleGAN)")


PRETRAINED = {
    "facades_label2photo": pix2pix("facades_label2photo", "facades", True,
                                   "label map -> facade photo"),
    "sat2map": pix2pix("sat2map", "maps", False, "satellite photo -> map"),
    "map2sat": pix2pix("map2sat", "maps", True, "map -> satellite photo"),
    "edges2shoes": pix2pix("edges2shoes", "edges2shoes", False, "edges -> shoe photo"),
    "day2night": pix2pix("day2night", "night2day", True, "day photo -> night photo"),
    "horse2zebra": cyclegan("horse2zebra", "horse2zebra", False, "horse -> zebra"),
    "zebra2horse": cyclegan("zebra2horse", "horse2zebra", True, "zebra -> horse"),
    "apple2orange": cyclegan("apple2orange", "apple2orange", False, "apple -> orange"),
    "orange2apple": cyclegan("orange2apple", "apple2orange", True, "orange -> apple"),
    "summer2winter_yosemite": cyclegan("summer2winter_yosemite", "summer2winter_yosemite",
                                       False, "summer -> winter in Yosemite"),
    "winter2summer_yosemite": cyclegan("winter2summer_yosemite", "summer2winter_yosemite",
                                       True, "winter -> summer in Yosemite"),
    "monet2photo": cyclegan("monet2photo", "monet2photo", False, "Monet painting -> photo"),
    "style_monet": cyclegan("style_monet", "monet2photo", True, "photo -> Monet's style"),
    "style_cezanne": cyclegan("style_cezanne", "cezanne2photo", True, "photo -> Cezanne's style"),
    "style_ukiyoe": cyclegan("style_ukiyoe", "ukiyoe2photo", True, "photo -> ukiyo-e style"),
    "style_vangogh": cyclegan("style_vangogh", "vangogh2photo", True, "photo -> Van Gogh's style"),
    "iphone2dslr_flower": cyclegan("iphone2dslr_flower", "iphone2dslr_flower", False,
                                   "iPhone flower photo -> DSLR's shallow depth of field"),
    "cyclegan_sat2map": cyclegan("sat2map", "maps", False, "satellite photo -> map"),
    "cyclegan_map2sat": cyclegan("map2sat", "maps", True, "map -> satellite photo"),
    "cityscapes_photo2label": cyclegan("cityscapes_photo2label", "cityscapes", False,
                                       "street photo -> label map"),
    "cityscapes_label2photo": cyclegan("cityscapes_label2photo", "cityscapes", True,
                                       "label map -> street photo"),
    "facades_photo2label": cyclegan("facades_photo2label", "facades", False,
                                    "facade photo -> label map"),
    "cyclegan_facades_label2photo": cyclegan("facades_label2photo", "facades", True,
                                             "label map -> facade photo"),
}
PRETRAINED_SIZE = 256  # the size all of them were trained at


def pretrained_path(name, models_dir="models"):
    """Where the converted generator `name` is kept: models/pretrained/<name>.h5."""
    return os.path.join(models_dir, "pretrained", f"{name}.h5")
