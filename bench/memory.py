"""Benchmark: peak memory of preparing a maps-sized dataset and of training from its npz.

    python bench/memory.py --images 1000

Draws --images side-by-side JPEGs of the maps set's size (1200x600) into a temporary folder,
runs `prepare_dataset.py` on them (256x256 npz), then trains a few steps from that npz, each in
its own process, and reports each process's peak resident memory (its getrusage maximum). Writes
the table as JSON (default bench/memory.json).
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
from tqdm import tqdm  # noqa: E402

from pix2pix.storage import atomic_path  # noqa: E402

TRAIN_FEW_STEPS = """
import sys
from pix2pix.data.datasets import load_batch, load_dataset
from pix2pix.model.gan import define_gan
from pix2pix.model.networks import define_discriminator, define_generator
dataset = load_dataset(sys.argv[1])
shape = dataset.image_shape
d, g = define_discriminator(shape), define_generator(shape)
gan = define_gan(g, d)
for i in range(int(sys.argv[2])):
    gan.train_on_batch(*load_batch(dataset, [i]))
"""


def peak_rss_mb(command):
    """Run a command; return (its peak resident memory in MB, seconds)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed with exit status {process.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def draw_maps_sized(folder, n, seed=0):
    """n 1200x600 JPEG pairs: smooth random colour fields with noise, as photos compress."""
    rng = np.random.default_rng(seed)
    for i in tqdm(range(n), desc="drawing JPEGs", unit="image"):
        coarse = Image.fromarray(rng.integers(0, 256, (12, 24, 3), dtype=np.uint8))
        image = np.asarray(coarse.resize((1200, 600), Image.BICUBIC), dtype=np.int16)
        image = image + rng.integers(-12, 13, image.shape, dtype=np.int16)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
            os.path.join(folder, f"{i}.jpg"), quality=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="pair images (default 1000)")
    parser.add_argument("--steps", type=int, default=5, help="training steps (default 5)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "memory.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        images = os.path.join(folder, "train")
        os.mkdir(images)
        draw_maps_sized(images, args.images)
        npz = os.path.join(folder, "maps_256.npz")
        rows = []
        rss, seconds = peak_rss_mb([sys.executable, "prepare_dataset.py", images, "-o", npz])
        rows.append({"what": f"prepare_dataset.py, {args.images} JPEGs 1200x600 -> 256",
                     "peak_rss_mb": rss, "seconds": seconds})
        rss, seconds = peak_rss_mb([sys.executable, "-c", TRAIN_FEW_STEPS, npz, str(args.steps)])
        rows.append({"what": f"{args.steps} training steps at 256 from that npz",
                     "peak_rss_mb": rss, "seconds": seconds})
        npz_megabytes = os.path.getsize(npz) / 2 ** 20
    print(f"{'what':<52} {'peak RSS MB':>11} {'seconds':>8}")
    for r in rows:
        print(f"{r['what']:<52} {r['peak_rss_mb']:>11.0f} {r['seconds']:>8.1f}")
    print(f"(the npz: {npz_megabytes:.0f} MB)")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"images": args.images, "npz_megabytes": npz_megabytes, "rows": rows}, f,
                  indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
