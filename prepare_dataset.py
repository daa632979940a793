"""Turn a folder of side-by-side pair images into the npz arrays that train.py reads.

    python prepare_dataset.py data/maps/train     # -> data/maps_256.npz
    python prepare_dataset.py --download maps     # fetch data/maps/, prepare its train split
    python prepare_dataset.py --synthetic 500 --size 64 -o data/synthetic_64.npz
    python prepare_dataset.py --combine photos/ labels/ data/mine/train   # two folders -> pairs
    python prepare_dataset.py --colorization photos/ --size 256 -o data/colorize_256.npz  # L -> ab

Images keep their channels (grayscale 1, colour 3, a TIFF its own) and bit depth (16-bit PNG
and TIFF stay uint16).
"""
import argparse
import os

from pix2pix.cli import add_debug_flag, add_overwrite_flag, run
from pix2pix.data.datasets import load_images
from pix2pix.data.prepare import (DATASETS, DATASETS_URL, colorization_pairs, combine_folders,
                                  download_dataset, save_dataset)
from pix2pix.data.synthetic import synthetic_dataset
from pix2pix.errors import Pix2PixError
from pix2pix.storage import check_output


def default_output(folder, size):
    """data/maps/train -> data/maps_256.npz: named after the dataset, not the split."""
    parts = os.path.normpath(os.path.abspath(folder)).split(os.sep)
    name = parts[-2] if parts[-1] in ("train", "val", "test") and len(parts) > 1 else parts[-1]
    return os.path.join("data", f"{name}_{size}.npz")


def main(args):
    if args.size < 1:
        raise Pix2PixError(f"--size must be positive, got {args.size}")
    if args.combine:
        count = combine_folders(*args.combine)
        print(f"wrote {count} side-by-side pairs to {args.combine[2]}")
        return
    if args.synthetic is not None:
        if args.synthetic < 1:
            raise Pix2PixError(f"--synthetic must be at least 1, got {args.synthetic}")
        args.output = args.output or os.path.join("data", f"synthetic_{args.size}.npz")
        check_output(args.output, args.overwrite)
        sources, targets = synthetic_dataset(args.synthetic, args.size, seed=args.seed)
    elif args.colorization:
        args.output = args.output or default_output(args.colorization, args.size)
        check_output(args.output, args.overwrite)
        sources, targets = colorization_pairs(args.colorization, args.size)
    else:
        folder = args.folder or os.path.join(args.data_dir, args.download, "train")
        args.output = args.output or default_output(folder, args.size)
        check_output(args.output, args.overwrite)  # before any download or reading
        if args.download:
            download_dataset(args.download, args.data_dir, args.base_url)
        sources, targets = load_images(folder, args.size)
    save_dataset(args.output, sources, targets, colorization=bool(args.colorization))
    print(f"saved {len(sources)} pairs of {sources.shape[2]}x{sources.shape[1]} images "
          f"({sources.shape[3]} -> {targets.shape[3]} channels, {sources.dtype}) to {args.output}")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Prepare paired images for pix2pix: split each side-by-side image into "
                    "source (left) and target (right), resize both halves to --size, and save "
                    "them as a compressed npz (arr_0 = sources, arr_1 = targets, uint8).",
        epilog="Example: python prepare_dataset.py data/maps/train  (writes data/maps_256.npz)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("folder", nargs="?", help="folder of side-by-side pair images")
    source.add_argument("--download", choices=DATASETS, metavar="NAME",
                        help=f"download a published pix2pix dataset into --data-dir and prepare "
                             f"its train split; one of: {', '.join(DATASETS)}")
    source.add_argument("--synthetic", type=int, metavar="N",
                        help="draw N pairs of the built-in synthetic aerial-to-map dataset "
                             "(works offline)")
    source.add_argument("--combine", nargs=3, metavar=("A_DIR", "B_DIR", "OUT_DIR"),
                        help="join the same-named images of A_DIR (left) and B_DIR (right) into "
                             "side-by-side pairs in OUT_DIR, ready for this script or train.py")
    source.add_argument("--colorization", metavar="PHOTOS",
                        help="L-to-ab pairs of a folder of colour photos, as the authors' "
                             "colorization dataset makes them (Lab: L in, 1 channel; ab out, 2)")
    parser.add_argument("--size", type=int, default=256, help="output image size (default 256)")
    parser.add_argument("-o", "--output",
                        help="npz file to write (default data/<dataset>_<size>.npz)")
    parser.add_argument("--data-dir", default="data", help="where downloads go (default data)")
    parser.add_argument("--base-url", default=DATASETS_URL,
                        help=f"server of the published datasets (default {DATASETS_URL})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic set (default 0)")
    add_overwrite_flag(parser, "the npz file")
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
