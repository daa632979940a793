"""Measure a trained generator on held-out pairs against simple baselines.

    python evaluate.py models/model_109600.h5 data/maps_val_256.npz
    python evaluate.py models/facades.h5 data/facades/val --labels --classes 12 --json scores.json
    python evaluate.py models/model_109600.h5 data/maps_val_256.npz --samples samples.png -n 4
    python evaluate.py --pretrained map2sat data/maps_val_256.npz     # the authors' generator
    python evaluate.py models/facades.h5 data/facades/val --colours --fid  # distributions
"""
import argparse
import json

from pix2pix.cli import (add_debug_flag, add_generator_flags, add_mode_flags, add_overwrite_flag,
                         load_named_generator, name_generator, run)
from pix2pix.data.datasets import load_dataset
from pix2pix.errors import Pix2PixError
from pix2pix.inference.distributions import check_rgb
from pix2pix.inference.generator import check_fits, translate_pixels
from pix2pix.inference.inception import NOT_COMPARABLE, inception_model
from pix2pix.inference.metrics import format_table, heldout_scores, palette_for
from pix2pix.inference.plotting import PLOT_EXTENSIONS, plot_translations
from pix2pix.storage import atomic_path, check_output


def main(args):
    if args.n < 1:
        raise Pix2PixError(f"-n must be at least 1, got {args.n}")
    if args.labels and (args.palette is None) == (args.classes is None):
        raise Pix2PixError("--labels needs either --palette FILE or --classes K")
    if args.classes is not None and args.classes < 2:
        raise Pix2PixError(f"--classes must be at least 2, got {args.classes}")
    fid = args.fid or args.inception_weights is not None
    name_generator(args, after=["dataset"])
    if args.dataset is None:
        raise Pix2PixError("give the held-out pairs to evaluate on (an npz file or a folder)")
    # Every output, checked before the work.
    if args.json:
        check_output(args.json, args.overwrite, [".json"])
    if args.samples:
        check_output(args.samples, args.overwrite, PLOT_EXTENSIONS)
    g_model, config = load_named_generator(args)
    pairs = load_dataset(args.dataset, g_model.input_shape[1:3], in_memory=True)
    reverse = args.reverse or config.get("reverse", False)
    if reverse:
        pairs = pairs.reversed()
    check_fits(g_model, pairs.image_shape, args.dataset)
    sources, targets = pairs.sources, pairs.targets
    palette = palette_for(args.palette, args.classes, targets) if args.labels else None
    if args.colours or fid:
        check_rgb(pairs.image_shape, "--colours and --fid")
    inception = inception_model(args.inception_weights or "imagenet") if fid else None

    results = heldout_scores(g_model, sources, targets, args.mode, palette, args.colours,
                             inception, config.get("max_value"))
    print(f"{len(sources)} pairs of {args.dataset}, {args.mode} mode"
          f"{', reversed' if reverse else ''} (mae on the [-1, 1] scale, lower is better; psnr "
          f"in dB, ssim, pixels within 5 and the label scores: higher is better; ssim has "
          f"scikit-image's 7x7 uniform window, ssim gaussian is Wang et al.'s that papers report)")
    if args.colours:
        print("hist L, a, b: intersection of the Lab histograms of all the answers' and all the "
              "targets' pixels (1 = the same colours, higher is better)")
    if fid:
        print(f"fid, kid: lower is better. {NOT_COMPARABLE}")
    print(format_table(results))

    if args.json:
        report = {"model": args.model, "dataset": args.dataset, "pairs": len(sources),
                  "mode": args.mode, "reverse": bool(reverse), "results": results}
        if palette is not None:
            report["palette"] = palette.tolist()
        if fid:
            report["inception"] = {"weights": args.inception_weights or "imagenet (Keras)",
                                   "note": NOT_COMPARABLE}
        with atomic_path(args.json) as tmp, open(tmp, "w") as f:
            json.dump(report, f, indent=2)
        print(f"saved {args.json}")
    if args.samples:
        n = min(args.n, len(sources))
        generated = translate_pixels(g_model, sources[:n], args.mode)
        plot_translations(sources[:n], generated, targets[:n], args.samples,
                          config.get("colorization", False))
        print(f"saved {args.samples}")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Translate every held-out pair and compare the translations with the "
                    "targets: mean absolute error, PSNR, SSIM (scikit-image's defaults, and Wang et al.'s "
                    "Gaussian one that papers report) and the share of pixels within 5 "
                    "of the target, beside three baselines: the untranslated source, an "
                    "untrained generator, and the mean target image. --labels adds the paper's "
                    "label-map scores. The model's direction (--reverse at training) is read "
                    "from the model file.")
    add_generator_flags(parser)
    parser.add_argument("dataset", nargs="?", help="npz file of held-out pairs, or a folder of "
                        "side-by-side pair images")
    parser.add_argument("--reverse", action="store_true",
                        help="translate right to left, whatever the model was trained on")
    add_mode_flags(parser)
    parser.add_argument("--labels", action="store_true",
                        help="the targets are label maps: also report per-pixel accuracy, "
                             "per-class accuracy and class IoU")
    parser.add_argument("--palette", metavar="FILE", help="the label colours: JSON [[r, g, b], "
                        "...] or text, one 'r g b' a line")
    parser.add_argument("--classes", type=int, metavar="K",
                        help="find K label colours by k-means on the targets instead")
    parser.add_argument("--colours", action="store_true",
                        help="also compare the colours of all the answers with those of all the "
                             "targets: the paper's histogram intersections of L, a and b in Lab "
                             "(RGB data)")
    parser.add_argument("--fid", action="store_true",
                        help="also report FID and KID on the features of Keras's InceptionV3 "
                             "with ImageNet weights, downloaded by Keras on first use (RGB data; "
                             "not comparable with FIDs of other Inception weights)")
    parser.add_argument("--inception-weights", metavar="FILE",
                        help="the InceptionV3 weights (include_top=False) for --fid, offline")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--samples", metavar="FILE.png",
                        help="plot source / generated / target of the first -n pairs")
    parser.add_argument("-n", type=int, default=4, help="pairs in --samples (default 4)")
    add_overwrite_flag(parser, "--json and --samples")
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
