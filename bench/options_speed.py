"""Benchmark: seconds per training step of each generator and normalization, beside the default.

    python bench/options_speed.py --size 256 --steps 5 --rounds 2

The authors' options (train.py's --netG and --norm) change what a step computes; this times
each beside the paper's U-Net with BatchNorm, one after the other, --rounds times (this machine's
speed drifts), batch 1, float32, as train.py runs the step. It prints seconds per step, each
option's ratio to the default measured in the same round, and its GFLOP (counted from the
networks as bench/train_speed.py counts them). Writes the table as JSON
(bench/options_speed.json).
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.train_speed import measure  # noqa: E402
from pix2pix.backend import start_devices  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402

OPTIONS = [("unet", "batch"), ("unet", "instance"), ("unet", "none"),
           ("encoder_decoder", "batch"), ("resnet_9blocks", "batch"),
           ("resnet_9blocks", "instance"), ("resnet_6blocks", "batch")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="image size (default 256)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times the whole set is measured (default 2)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "options_speed.json"))
    args = parser.parse_args()
    print(f"running on {start_devices()}")  # started muted: CUDA's lines stay out of the table
    rows = []
    for round_ in range(1, args.rounds + 1):
        default = None
        for netG, norm in OPTIONS:
            seconds, gflop = measure(args.size, "float32", args.warmup, args.steps, netG, norm)
            default = default or seconds
            rows.append({"round": round_, "netG": netG, "norm": norm, "size": args.size,
                         "seconds": seconds, "ratio_to_default": seconds / default,
                         "gflop": gflop})
            print(f"round {round_}: {netG:<16} {norm:<9} {seconds:.3f} s "
                  f"({seconds / default:.2f}x the default), {gflop:.1f} GFLOP", flush=True)
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
