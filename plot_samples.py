"""Show a few pairs of a prepared dataset: sources on the top row, targets below.

    python plot_samples.py data/maps_256.npz -n 3 -o samples.png
"""
import argparse

import numpy as np

from pix2pix.cli import add_debug_flag, add_overwrite_flag, run
from pix2pix.data.datasets import load_dataset
from pix2pix.errors import Pix2PixError
from pix2pix.inference.plotting import PLOT_EXTENSIONS, plot_samples
from pix2pix.storage import check_output


def main(args):
    if args.n < 1:
        raise Pix2PixError(f"-n must be at least 1, got {args.n}")
    check_output(args.output, args.overwrite, PLOT_EXTENSIONS)
    pairs = load_dataset(args.dataset, in_memory=True)
    sources, targets = pairs.sources, pairs.targets
    rng = np.random.default_rng(args.seed)
    indices = rng.choice(len(sources), size=min(args.n, len(sources)), replace=False)
    plot_samples(sources[indices], targets[indices], args.output, pairs.colorization)
    print(f"loaded {len(sources)} pairs of {sources.shape[1]}x{sources.shape[2]} images; "
          f"saved {len(indices)} of them to {args.output}")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Plot random source/target pairs of an npz dataset made by prepare_dataset.py, "
                    "or of a folder of side-by-side pair images.")
    parser.add_argument("dataset", help="npz file (arr_0 = sources, arr_1 = targets) or folder of "
                        "pair images")
    parser.add_argument("-n", type=int, default=3, help="number of pairs (default 3)")
    parser.add_argument("-o", "--output", default="samples.png", help="image to write "
                        "(default samples.png)")
    parser.add_argument("--seed", type=int, help="pick the same pairs every time")
    add_overwrite_flag(parser, "the image")
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
