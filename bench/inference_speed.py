"""Benchmark: seconds per translated image, side by side with the authors' G forward pass.

    python bench/inference_speed.py --torch-python ../venv-with-torch/bin/python

At 256x256 and 128x128 it times the reference generator's forward pass (bench/reference.py:
the authors' U-Net in PyTorch, float32, as their test.py runs it: dropout on, each batch's own
BatchNorm statistics), then, in each precision (float32 and bfloat16 by default),
`translate_images` in the paper's mode (the same, one image at a time) and in eval mode (moving
averages, batches of 1 and 16), one after the other, --rounds times. The generator is an
untrained one saved as H5 and loaded as translate.py loads it (its speed does not depend on its
weights). "of floor" is G's forward arithmetic at the rate of a large matrix product in the same
precision (bench/train_speed.py). Writes the table as JSON (bench/inference_speed.json).
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pix2pix.backend import start_devices  # noqa: E402  (TensorFlow without its start-up lines)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from bench.reference import add_torch_flag, reference_seconds  # noqa: E402
from bench.train_speed import forward_gflop, matmul_gflops  # noqa: E402
from pix2pix.inference.generator import load_generator, save_generator, translate_images  # noqa: E402
from pix2pix.model.networks import PRECISIONS, define_generator, set_precision  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402


def seconds_per_image(g_model, images, mode, batch):
    translate_images(g_model, images[:batch], mode)  # warm-up
    start = time.perf_counter()
    for i in range(0, len(images), batch):
        translate_images(g_model, images[i:i + batch], mode)
    return (time.perf_counter() - start) / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=32,
                        help="images translated per measurement (default 32)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times each set of measurements is repeated (default 2)")
    parser.add_argument("--precision", nargs="+", default=list(PRECISIONS), choices=PRECISIONS,
                        help="this project's precisions (default all; the reference runs "
                             "float32)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "inference_speed.json"))
    add_torch_flag(parser)
    args = parser.parse_args()
    print(f"running on {start_devices()}")  # started muted: CUDA's lines stay out of the table
    rows = []
    floor_gflops = {precision: matmul_gflops(precision) for precision in args.precision}
    for size in (256, 128):
        images = np.random.default_rng(0).uniform(-1, 1, (args.images, size, size, 3))
        generators = {}
        for precision in args.precision:
            keras.utils.set_random_seed(0)
            set_precision(precision)
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "generator.h5")
                save_generator(define_generator((size, size, 3)), path, {"image_size": size})
                start = time.perf_counter()
                generators[precision] = load_generator(path)[0], time.perf_counter() - start
            set_precision("float32")
        for _ in range(args.rounds):
            reference = reference_seconds(args.torch_python, size, args.images, inference=True)
            for precision, (g_model, load_seconds) in generators.items():
                gflop = forward_gflop(g_model)
                for mode, batch in (("paper", 1), ("eval", 1), ("eval", 16)):
                    ours = seconds_per_image(g_model, images.astype(np.float32), mode, batch)
                    rows.append({"size": size, "precision": precision, "mode": mode,
                                 "batch": batch, "seconds": ours, "reference_seconds": reference,
                                 "ratio": ours / reference if reference else None,
                                 "gflop": gflop,
                                 "floor_fraction": gflop / floor_gflops[precision] / ours,
                                 "load_seconds": load_seconds})
    for precision, rate in floor_gflops.items():
        print(f"arithmetic floor, {precision}: {rate:.0f} GFLOP/s (a 2048x2048 matrix product)")
    print(f"{'size':>5} {'precision':<9} {'mode':<6} {'batch':>5} {'reference s':>11} "
          f"{'ours s':>7} {'ours/ref':>8} {'of floor':>8} {'load s':>6}")
    for r in rows:
        reference = f"{r['reference_seconds']:.4f}" if r["reference_seconds"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        print(f"{r['size']:>5} {r['precision']:<9} {r['mode']:<6} {r['batch']:>5} "
              f"{reference:>11} {r['seconds']:>7.4f} {ratio:>8} {r['floor_fraction']:>8.1%} "
              f"{r['load_seconds']:>6.2f}")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"images": args.images, "floor_gflops": floor_gflops, "rows": rows}, f,
                  indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
