"""Benchmark: what each --preprocess mode costs per training step and in memory.

    python bench/preprocess_cost.py [--pairs 16 --steps 6]

Streams a folder of 1024x512 pair JPEGs (512x512 halves, drawn here), as train.py does, in each
mode with the settings a user would give for 256x256 training (resize_and_crop: load 286, crop
256; crop: 256 crops of the 512 halves; scale_width: width 256 (height at least --crop-size 256); scale_width_and_crop: width
286, crop 256; none: the 512x512 halves as they are). Each mode runs in a process of its own,
so its peak memory is its own. It reports the seconds to prepare one pair (decode, resize, crop,
flip, scale; one thread), the seconds of the training step at the size the mode gives (the
paper's networks, float32, batch 1), and the process's peak RSS. Writes the table as JSON
(bench/preprocess_cost.json).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

MODES = {"resize_and_crop": dict(load_size=286, crop_size=256), "crop": dict(crop_size=256),
         "scale_width": dict(load_size=256, crop_size=256), "scale_width_and_crop": dict(load_size=286,
                                                                          crop_size=256),
         "none": {}}


def draw_pairs(folder, n):
    """n smooth random 1024x512 pair JPEGs (noise would be costlier to decode than photos)."""
    rng = np.random.default_rng(0)
    for i in range(n):
        small = rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)
        Image.fromarray(small).resize((1024, 512), Image.BICUBIC).save(
            os.path.join(folder, f"{i:03d}.jpg"), quality=90)


def measure(folder, mode, steps):
    """One mode, in this process: {prepare_seconds, step_seconds, size}."""
    import pix2pix.backend  # noqa: F401  (TensorFlow without its start-up lines)
    from pix2pix.data.datasets import load_batch, load_dataset
    from pix2pix.model.gan import define_gan
    from pix2pix.model.networks import define_discriminator, define_generator
    from pix2pix.training.config import RunConfig
    from pix2pix.training.distribute import distributed_step, make_strategy, read_losses
    from pix2pix.training.loop import prepared

    config = RunConfig(dataset=folder, preprocess=mode, **MODES[mode])
    dataset = load_dataset(folder, config.size if mode == "resize_and_crop" else None)
    config, (height, width) = prepared(config, dataset)
    preprocess = config.preprocessing()
    start = time.perf_counter()
    for i in range(len(dataset)):
        source, target = load_batch(dataset, [i], [0, i], preprocess)
    prepare_seconds = (time.perf_counter() - start) / len(dataset)
    shape = (height, width, 3)
    gan = define_gan(define_generator(shape), define_discriminator(shape))
    step = distributed_step(gan, make_strategy())
    step(source, target)  # the first call builds the graph
    start = time.perf_counter()
    for _ in range(steps):
        losses = step(source, target)
    read_losses(losses)  # waits for the last step, and so for all (each needs the one before)
    return {"size": f"{height}x{width}", "prepare_seconds": prepare_seconds,
            "step_seconds": (time.perf_counter() - start) / steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=16, help="pair images streamed")
    parser.add_argument("--steps", type=int, default=6, help="training steps timed per mode")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "preprocess_cost.json"))
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.steps)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        draw_pairs(folder, args.pairs)
        for mode in MODES:
            child = subprocess.Popen([sys.executable, __file__, "--child", folder, mode,
                                      "--steps", str(args.steps)], stdout=subprocess.PIPE)
            out = child.stdout.read()
            _, status, usage = os.wait4(child.pid, 0)  # the child's own peak memory
            if status:
                sys.exit(f"{mode}: the measurement failed")
            row = dict(mode=mode, **MODES[mode], **json.loads(out.splitlines()[-1]),
                       peak_rss_mb=usage.ru_maxrss / 1024)
            rows.append(row)
            print(f"{mode:21s} {row['size']:>8s}  prepare {row['prepare_seconds']:.4f} s/pair"
                  f"  step {row['step_seconds']:.3f} s  peak RSS {row['peak_rss_mb']:.0f} MB",
                  flush=True)
    from pix2pix.storage import atomic_path
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"pairs": args.pairs, "image": "1024x512", "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
