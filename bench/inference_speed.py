"""Benchmark: seconds per translated image, side by side with the authors' G forward pass.

    python bench/inference_speed.py --torch-python ../venv-with-torch/bin/python

At 256x256 and 128x128, float32, it times the reference generator's forward pass (bench/
reference.py: the authors' U-Net in PyTorch, as their test.py runs it: dropout on, each batch's
own BatchNorm statistics), then `translate_images` in the paper's mode (the same, one image at
a time) and in eval mode (moving averages, batches of 1 and 16), one after the other, --rounds
times. The generator is an untrained one saved as H5 and loaded as translate.py loads it (its
speed does not depend on its weights). Writes the table as JSON (bench/inference_speed.json).
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import pix2pix.backend  # noqa: E402,F401  (imports TensorFlow without its start-up lines)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from bench.reference import add_torch_flag, reference_seconds  # noqa: E402
from pix2pix.inference.generator import load_generator, save_generator, translate_images  # noqa: E402
from pix2pix.model.networks import define_generator  # noqa: E402
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
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "inference_speed.json"))
    add_torch_flag(parser)
    args = parser.parse_args()
    rows = []
    for size in (256, 128):
        keras.utils.set_random_seed(0)
        images = np.random.default_rng(0).uniform(-1, 1, (args.images, size, size, 3))
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "generator.h5")
            save_generator(define_generator((size, size, 3)), path, {"image_size": size})
            start = time.perf_counter()
            g_model, _ = load_generator(path)
            load_seconds = time.perf_counter() - start
        for _ in range(args.rounds):
            reference = reference_seconds(args.torch_python, size, args.images, inference=True)
            for mode, batch in (("paper", 1), ("eval", 1), ("eval", 16)):
                ours = seconds_per_image(g_model, images.astype(np.float32), mode, batch)
                rows.append({"size": size, "mode": mode, "batch": batch, "seconds": ours,
                             "reference_seconds": reference,
                             "ratio": ours / reference if reference else None,
                             "load_seconds": load_seconds})
    print(f"{'size':>5} {'mode':<6} {'batch':>5} {'reference s':>11} {'ours s':>7} "
          f"{'ours/ref':>8} {'load s':>6}")
    for r in rows:
        reference = f"{r['reference_seconds']:.4f}" if r["reference_seconds"] else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        print(f"{r['size']:>5} {r['mode']:<6} {r['batch']:>5} {reference:>11} "
              f"{r['seconds']:>7.4f} {ratio:>8} {r['load_seconds']:>6.2f}")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"images": args.images, "rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
