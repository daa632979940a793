"""Benchmark: how fast a 256x256 generator loads and translates.

    python bench/inference_speed.py --images 16

For each precision a model can be trained in (`train.py --precision`), saves an untrained
256x256 generator as H5 (the speed does not depend on the weights), times `load_generator` on
it, then images per second of `translate_images`: paper mode (dropout and each image's own
statistics, so one image at a time), and eval mode (moving averages) at batch 1 and batch 16.
Prints a table and writes it as JSON (default bench/inference_speed.json).
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import pix2pix  # noqa: E402,F401  (imports TensorFlow without its start-up lines)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from pix2pix.inference import load_generator, save_generator, translate_images  # noqa: E402
from pix2pix.networks import PRECISIONS, define_generator, set_precision  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402


def images_per_second(g_model, images, mode, batch):
    translate_images(g_model, images[:batch], mode)  # warm-up: the first call builds the graph
    start = time.perf_counter()
    for i in range(0, len(images), batch):
        translate_images(g_model, images[i:i + batch], mode)
    return len(images) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=32,
                        help="images translated per measurement (default 32)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "inference_speed.json"))
    args = parser.parse_args()
    images = np.random.default_rng(0).uniform(-1, 1, (args.images, 256, 256, 3))
    images = images.astype(np.float32)
    rows = []
    for precision in PRECISIONS:
        keras.utils.set_random_seed(0)
        set_precision(precision)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "generator.h5")
            save_generator(define_generator((256, 256, 3)), path, {"image_size": 256})
            megabytes = os.path.getsize(path) / 2 ** 20
            start = time.perf_counter()
            g_model, _ = load_generator(path)
            load_seconds = time.perf_counter() - start
        rows += [{"precision": precision, "mode": mode, "batch": batch,
                  "images_per_second": images_per_second(g_model, images, mode, batch),
                  "h5_megabytes": megabytes, "load_seconds": load_seconds}
                 for mode, batch in (("paper", 1), ("eval", 1), ("eval", 16))]
    print(f"{'precision':<9} {'mode':<6} {'batch':>5} {'images/s':>9} {'H5 MB':>6} {'load s':>6}")
    for r in rows:
        print(f"{r['precision']:<9} {r['mode']:<6} {r['batch']:>5} {r['images_per_second']:>9.2f} "
              f"{r['h5_megabytes']:>6.0f} {r['load_seconds']:>6.2f}")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"size": 256, "images": args.images, "rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
