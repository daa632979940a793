"""Benchmark: training from a folder of pair images, streamed, against training from an npz.

    python bench/streaming.py --small 200 --large 2000 --steps 110

Draws synthetic side-by-side JPEGs at 64x64 a half, then trains --steps steps at 64x64 in a
fresh process from: a folder of --small images, a folder of --large images, and an npz of the
--large images. Reports each process's peak resident memory and the steps per second of its
training loop (the first 10 steps, which trace the graphs, not counted). Streaming keeps memory
flat when the first two peaks are about the same, and costs nothing when the folder's speed is
within a few percent of the npz's. Writes the table as JSON (default bench/streaming.json).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pix2pix.data.prepare import save_dataset  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402
from pix2pix.data.synthetic import synthetic_dataset  # noqa: E402

TRAIN_STEPS = """
import sys, time
from pix2pix.data.datasets import iterate_batches, load_dataset
from pix2pix.model.gan import define_gan
from pix2pix.model.networks import define_discriminator, define_generator
dataset = load_dataset(sys.argv[1], 64)
steps = int(sys.argv[2])
shape = dataset.image_shape
d, g = define_discriminator(shape), define_generator(shape)
gan = define_gan(g, d)
order = [i % len(dataset) for i in range(steps)]
for i, (src, tar) in enumerate(iterate_batches(dataset, order, 1, jitter_seed=0)):
    if i == 10:
        start = time.perf_counter()
    gan.train_on_batch(src, tar)
print((steps - 10) / (time.perf_counter() - start))
"""


def run(source, steps):
    """Train in a fresh process; returns (peak RSS in MB, steps per second)."""
    process = subprocess.Popen([sys.executable, "-c", TRAIN_STEPS, source, str(steps)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"training from {source} failed")
    return usage.ru_maxrss / 1024, float(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=110)
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "streaming.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src, tar = synthetic_dataset(args.large, 64, seed=0)
        for n in (args.small, args.large):
            folder = os.path.join(tmp, f"pairs_{n}")
            os.makedirs(folder)
            for i in range(n):
                Image.fromarray(np.concatenate([src[i], tar[i]], axis=1)).save(
                    os.path.join(folder, f"{i}.jpg"), quality=95)
            rows.append((f"folder of {n} JPEGs", *run(folder, args.steps)))
        npz = os.path.join(tmp, "pairs.npz")
        save_dataset(npz, src, tar)
        rows.append((f"npz of {args.large} pairs", *run(npz, args.steps)))
    print(f"{'source':<24} {'peak RSS (MB)':>14} {'steps/s':>8}")
    for name, rss, speed in rows:
        print(f"{name:<24} {rss:>14.0f} {speed:>8.2f}")
    with atomic_path(args.json) as out:
        with open(out, "w") as f:
            json.dump([{"source": n, "peak_rss_mb": r, "steps_per_s": s} for n, r, s in rows],
                      f, indent=2)


if __name__ == "__main__":
    main()
