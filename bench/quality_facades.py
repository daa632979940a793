"""Benchmark: how well a short run learns facades (labels -> photo) at 128x128.

    python bench/quality_facades.py --epochs 10

Trains exactly as train.py does (pix2pix.training.loop.train: random jitter and mirroring, a new
order each epoch) on ../shared/datasets/facades/train (photo on the left, labels on the right;
labels -> photo is the reverse direction) for --epochs epochs of 400 batch-1 steps, then
evaluates on ../shared/datasets/facades/test with evaluate.py's metrics beside its baselines
(and the colour histograms of its --colours; FID and KID only given --inception-weights FILE).
Writes docs/facades_losses.png (the loss curves), docs/facades_samples.png (source / generated /
target) and the numbers as JSON (default bench/quality_facades.json). With --every-epoch the
generator saved at each epoch is scored too ("epochs" in the JSON: how two precisions compare
along the run, python bench/quality_facades.py --epochs 3 --every-epoch --precision bfloat16).
Without ../shared it says so and exits 0.
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pix2pix.data.datasets import load_dataset, load_images  # noqa: E402
from pix2pix.inference.generator import load_generator, translate_pixels  # noqa: E402
from pix2pix.inference.inception import NOT_COMPARABLE, inception_model  # noqa: E402
from pix2pix.inference.metrics import evaluate_answers, format_table, heldout_scores  # noqa: E402
from pix2pix.model.gan import define_gan  # noqa: E402
from pix2pix.model.networks import (PRECISIONS, define_discriminator,  # noqa: E402
                              define_generator, set_precision)
from pix2pix.inference.plotting import plt, plot_translations  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402
from pix2pix.training.config import RunConfig  # noqa: E402
from pix2pix.training.loop import train  # noqa: E402


def plot_losses(losses, path, window=50):
    """D's two losses and G's against the step, as moving averages over `window` steps."""
    kernel = np.ones(window) / window
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for name in ("d_real", "d_fake", "g"):
        smooth = np.convolve(losses[name], kernel, mode="valid")
        axes[1 if name == "g" else 0].plot(np.arange(len(smooth)) + window, smooth, label=name)
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend()
    fig.suptitle(f"facades 128x128, labels -> photo (moving average of {window} steps)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    parser.add_argument("--size", type=int, default=128, help="image size (default 128)")
    parser.add_argument("--precision", default="float32", choices=PRECISIONS)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "datasets",
                                                       "facades"))
    parser.add_argument("--docs", default=os.path.join(ROOT, "docs"))
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "quality_facades.json"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--inception-weights", metavar="FILE",
                        help="InceptionV3 weights (include_top=False): also FID and KID")
    parser.add_argument("--every-epoch", action="store_true",
                        help="score the generator saved at each epoch, not only the last")
    args = parser.parse_args()
    if not os.path.isdir(args.data):
        print(f"skipped: {os.path.normpath(args.data)} is absent (the facades dataset)")
        return

    # Before the training: a bad weights file is refused at once.
    inception = inception_model(args.inception_weights) if args.inception_weights else None
    keras.utils.set_random_seed(args.seed)
    set_precision(args.precision)
    dataset = load_dataset(os.path.join(args.data, "train"), args.size).reversed()
    test_photos, test_labels = load_images(os.path.join(args.data, "test"), args.size)
    shape = dataset.image_shape
    d_model, g_model = define_discriminator(shape), define_generator(shape)
    gan_model = define_gan(g_model, d_model)

    with tempfile.TemporaryDirectory() as out_dir:
        start = time.perf_counter()
        train(gan_model, dataset, RunConfig(epochs=args.epochs, out=out_dir,
                                            save_every=1 if args.every_epoch else args.epochs,
                                            seed=args.seed, precision=args.precision))
        train_seconds = time.perf_counter() - start
        losses = np.genfromtxt(os.path.join(out_dir, "losses.csv"), delimiter=",", names=True)
        by_epoch = {}
        if args.every_epoch:
            for epoch in range(1, args.epochs + 1):  # batch 1: epoch e ends at step e * pairs
                path = os.path.join(out_dir, f"model_{epoch * len(dataset):06d}.h5")
                saved, _ = load_generator(path)
                answer = {"model": lambda sources: translate_pixels(saved, sources)}
                by_epoch[epoch] = evaluate_answers(answer, test_labels, test_photos)["model"]
                print(f"epoch {epoch}: " + ", ".join(f"{name} {value:.4f}" for name, value
                                                     in by_epoch[epoch].items()))
    steps = len(losses)

    results = heldout_scores(g_model, test_labels, test_photos, colours=True,
                             inception=inception)
    if inception is not None:
        print(NOT_COMPARABLE)
    print(f"facades {args.size}x{args.size}, labels -> photo, {args.precision}, {steps} steps "
          f"({args.epochs} epochs of {len(dataset)} pairs, {train_seconds:.0f} s with the "
          f"checkpoints); {len(test_labels)} test pairs, paper mode:")
    print(format_table(results))

    plot_losses(losses, os.path.join(args.docs, "facades_losses.png"))
    n = 4
    generated = translate_pixels(g_model, test_labels[:n])
    samples = os.path.join(args.docs, "facades_samples.png")
    plot_translations(test_labels[:n], generated, test_photos[:n], samples)
    with atomic_path(samples) as tmp:  # 128 colours: a quarter of the size, for the repository
        Image.open(samples).convert("RGB").quantize(128).save(tmp)
    report = {"size": args.size, "precision": args.precision, "epochs": args.epochs,
              "steps": steps, "train_pairs": len(dataset), "test_pairs": len(test_labels),
              "train_seconds": train_seconds, "seconds_per_step": train_seconds / steps,
              "results": results, "epochs_scored": by_epoch,
              "final_losses_mean_last_100": {name: float(np.mean(losses[name][-100:]))
                                             for name in losses.dtype.names[2:]}}
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump(report, f, indent=2)
    print(f"saved {args.json}, {samples} and {os.path.join(args.docs, 'facades_losses.png')}")


if __name__ == "__main__":
    main()
