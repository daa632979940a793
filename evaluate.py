"""Measure a trained generator on held-out pairs against simple baselines.

    python evaluate.py models/model_109600.h5 data/maps_val_256.npz
"""
import argparse

from pix2pix.cli import InputError, add_debug_flag, run
from pix2pix.data import load_real_samples
from pix2pix.inference import load_generator
from pix2pix.metrics import heldout_errors


def main(args):
    g_model, config = load_generator(args.model)
    src, tar = load_real_samples(args.dataset)
    if config.get("reverse"):
        src, tar = tar, src
    if src.shape[1:] != g_model.input_shape[1:]:
        raise InputError(f"{args.dataset}: its {src.shape[1]}x{src.shape[2]} images do not fit "
                         f"the model, which translates {g_model.input_shape[1]}x"
                         f"{g_model.input_shape[2]} images")
    errors = heldout_errors(g_model, (src, tar))
    print(f"mean absolute error on {len(src)} pairs of {args.dataset} ([-1, 1] scale, lower is "
          f"better):")
    for name, value in errors.items():
        print(f"  {name:<12} {value:.4f}")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Translate every pair of an npz dataset and report the mean absolute error "
                    "against the targets, beside three baselines: the untranslated source, an "
                    "untrained generator, and the mean target image. The model's direction "
                    "(--reverse at training) is read from the model file.")
    parser.add_argument("model", help="generator file (models/model_<step>.h5)")
    parser.add_argument("dataset", help="npz file of held-out pairs")
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
