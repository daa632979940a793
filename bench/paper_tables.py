"""Benchmark: the paper's ablation tables, at a small scale, on facades or any set of pairs.

    python bench/paper_tables.py                             # the run in bench/README.md
    python bench/paper_tables.py --quick --data FOLDER       # 32x32, widths 8, one epoch

Trains every row of Isola et al.'s ablations (CVPR 2017) with the project's loop (as train.py
does; one seed for every row, each distinct run once) on --data/train (pairs side by side,
photo left, labels right) and scores it on --data/test with evaluate.py's metrics:
- the objective, the generator (encoder-decoder or U-Net) and D's receptive field, labels ->
  photo: L1 (mae), PSNR, SSIM (Wang et al.'s) and FID (given --inception-weights);
- photo -> labels: per-pixel and per-class accuracy and class IoU, each pixel of the class of
  its nearest colour in a palette found by k-means (--classes); and the colour histograms.
Beside each row stand the paper's figures: Cityscapes at 256x256, FCN-scores (another dataset,
scale and measure: a guide to the direction of each finding, not a target). Writes the tables
as JSON and one figure of test samples per table (the paper's Figures 3-5 in miniature).
"""
import argparse
import dataclasses
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
from pix2pix.inference.distributions import (histogram_intersections,  # noqa: E402
                                            lab_histograms)
from pix2pix.inference.generator import translate_pixels  # noqa: E402
from pix2pix.inference.inception import (NOT_COMPARABLE, inception_distances,  # noqa: E402
                                         inception_features, inception_model)
from pix2pix.inference.metrics import (confusion_matrix, image_scores,  # noqa: E402
                                      kmeans_palette, label_scores)
from pix2pix.inference.plotting import plot_rows  # noqa: E402
from pix2pix.model.gan import define_gan  # noqa: E402
from pix2pix.model.networks import define_discriminator, define_generator  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402
from pix2pix.training.config import RunConfig  # noqa: E402
from pix2pix.training.loop import train  # noqa: E402

LABELS_TO_PHOTO, PHOTO_TO_LABELS = "labels -> photo", "photo -> labels"

# Each distinct training run: its RunConfig settings beside the defaults (U-Net, 70x70
# PatchGAN, L1 weight 100, conditional D, vanilla GAN loss).
RUNS = {
    "L1": dict(gan=False),
    "GAN": dict(conditional=False, lambda_l1=0.0),
    "cGAN": dict(lambda_l1=0.0),
    "L1+GAN": dict(conditional=False),
    "L1+cGAN": dict(),
    "encoder-decoder L1": dict(netG="encoder_decoder", gan=False),
    "encoder-decoder L1+cGAN": dict(netG="encoder_decoder"),
    "L1+cGAN, D 1x1": dict(patch=1),
    "L1+cGAN, D 16x16": dict(patch=16),
    "L1+cGAN, D 286x286": dict(patch=286),
}

FCN_SCORES = ("per-pixel acc", "per-class acc", "class IoU")
IMAGE_COLUMNS = ("mae", "psnr", "ssim gaussian", "fid")
HISTOGRAMS = ("hist L", "hist a", "hist b")

# The paper's figures, quoted from Isola et al., CVPR 2017 (Tables 1, 2 and 5), and from the
# arXiv version's Table 2 (1611.07004v3: the generators, which the CVPR paper shows only as
# Figure 4): Cityscapes, 256x256, FCN-8s scores.
TABLES = {
    "objective": dict(
        direction=LABELS_TO_PHOTO, columns=IMAGE_COLUMNS, paper_columns=FCN_SCORES,
        paper="CVPR 2017 Table 1: FCN-scores for different losses, Cityscapes labels<->photos",
        rows=[("L1", "L1", (0.42, 0.15, 0.11)), ("GAN", "GAN", (0.22, 0.05, 0.01)),
              ("cGAN", "cGAN", (0.57, 0.22, 0.16)), ("L1+GAN", "L1+GAN", (0.64, 0.20, 0.15)),
              ("L1+cGAN", "L1+cGAN", (0.66, 0.23, 0.17))]),
    "generator": dict(
        direction=LABELS_TO_PHOTO, columns=IMAGE_COLUMNS, paper_columns=FCN_SCORES,
        paper="arXiv v3 Table 2: FCN-scores for different generator architectures, Cityscapes "
              "labels<->photos (batch size 10 there)",
        rows=[("Encoder-decoder (L1)", "encoder-decoder L1", (0.35, 0.12, 0.08)),
              ("Encoder-decoder (L1+cGAN)", "encoder-decoder L1+cGAN", (0.29, 0.09, 0.05)),
              ("U-net (L1)", "L1", (0.48, 0.18, 0.13)),
              ("U-net (L1+cGAN)", "L1+cGAN", (0.55, 0.20, 0.14))]),
    "receptive field": dict(
        direction=LABELS_TO_PHOTO, columns=IMAGE_COLUMNS, paper_columns=FCN_SCORES,
        paper="CVPR 2017 Table 2: FCN-scores for different receptive field sizes of the "
              "discriminator, Cityscapes labels->photos, L1+cGAN",
        rows=[("1x1", "L1+cGAN, D 1x1", (0.39, 0.15, 0.10)),
              ("16x16", "L1+cGAN, D 16x16", (0.65, 0.21, 0.17)),
              ("70x70", "L1+cGAN", (0.66, 0.23, 0.17)),
              ("286x286", "L1+cGAN, D 286x286", (0.42, 0.16, 0.11))]),
    "photo to labels": dict(
        direction=PHOTO_TO_LABELS, columns=FCN_SCORES, paper_columns=FCN_SCORES,
        paper="CVPR 2017 Table 5: performance of photo->labels on Cityscapes",
        rows=[("L1", "L1", (0.86, 0.42, 0.35)), ("cGAN", "cGAN", (0.74, 0.28, 0.22)),
              ("L1+cGAN", "L1+cGAN", (0.83, 0.36, 0.29))]),
    "colour": dict(
        direction=LABELS_TO_PHOTO, columns=HISTOGRAMS, paper_columns=HISTOGRAMS,
        paper="CVPR 2017 Figure 6(d): histogram intersection in Lab against the real photos",
        rows=[("L1", "L1", (0.81, 0.69, 0.70)), ("cGAN", "cGAN", (0.87, 0.74, 0.84)),
              ("L1+cGAN", "L1+cGAN", (0.86, 0.84, 0.82)),
              ("PixelGAN", "L1+cGAN, D 1x1", (0.83, 0.68, 0.78))]),
}
N_SAMPLES = 3  # test pairs in each table's figure


def train_run(run, dataset, args):
    """Train one run of RUNS on `dataset` as train.py would; the generator, or the reason the
    run cannot be built at this size (the 286x286 D needs images of 128 pixels or more)."""
    config = RunConfig(**RUNS[run], size=args.size, epochs=args.epochs, seed=args.seed,
                       decay_epochs=args.decay_epochs, ngf=args.ngf, ndf=args.ndf,
                       save_every=args.epochs + args.decay_epochs, sample_every=0)
    keras.utils.set_random_seed(args.seed)
    shape = dataset.image_shape
    try:
        d_model = define_discriminator(shape, config.ndf, config.patch, config.norm,
                                       conditional=config.conditional)
    except ValueError:  # Keras: "Computed output size would be zero or negative"
        return None, f"D too deep for {shape[0]}x{shape[1]}"
    g_model = define_generator(shape, config.ngf, config.netG, config.norm, config.dropout)
    gan_model = define_gan(g_model, d_model, config.lambda_l1,
                           config.gan_mode if config.gan else None, config.lr, config.beta1)
    with tempfile.TemporaryDirectory() as out_dir:
        train(gan_model, dataset, dataclasses.replace(config, out=out_dir))
    return g_model, None


def score_translations(generated, targets, palette, inception):
    """evaluate.py's mean scores of translations against their targets (uint8 arrays) and the
    intersections of their Lab histograms; the label-map scores given a palette, FID and KID
    given an Inception model."""
    scores = {m: float(v.mean()) for m, v in image_scores(generated, targets).items()}
    scores.update(histogram_intersections(lab_histograms(generated), lab_histograms(targets)))
    if palette is not None:
        scores.update({m: float(v) for m, v in
                       label_scores(confusion_matrix(generated, targets, palette)).items()})
    if inception is not None:
        scores.update(inception_distances([inception_features(inception, generated)],
                                          [inception_features(inception, targets)]))
    return scores


def needed_runs():
    """Every (direction, run) some table needs, each once, in the order of the tables."""
    runs = []
    for table in TABLES.values():
        for _, run, _ in table["rows"]:
            if (table["direction"], run) not in runs:
                runs.append((table["direction"], run))
    return runs


def format_table(name, table, results):
    """A table in the paper's layout: our scores on this data beside the paper's figures."""
    ours = table["columns"]
    header = (f"{'':<26}" + "".join(f"{c:>14}" for c in ours) + "  |"
              + "".join(f"{c:>14}" for c in table["paper_columns"]))
    lines = [f"{name} ({table['direction']}); right of |: {table['paper']} (another dataset "
             f"and scale)", header]
    for label, run, paper in table["rows"]:
        result = results[f"{table['direction']}: {run}"]
        if "skipped" in result:
            cells = f"    (not run: {result['skipped']})".ljust(14 * len(ours))
        else:
            cells = "".join(f"{result['scores'][c]:>14.4f}" if c in result["scores"]
                            else f"{'-':>14}" for c in ours)
        lines.append(f"{label:<26}{cells}  |" + "".join(f"{v:>14.2f}" for v in paper))
    return "\n".join(lines)


def plot_table(table, translations, sources, targets, path):
    """The table's figure: the test inputs, each row's translations, the ground truth."""
    rows, titles = [list(sources[:N_SAMPLES])], ["Input"]
    for label, run, _ in table["rows"]:
        key = f"{table['direction']}: {run}"
        if key in translations:
            rows.append(list(translations[key][:N_SAMPLES]))
            titles.append(label.replace(" (", "\n("))
    rows.append(list(targets[:N_SAMPLES]))
    titles.append("Ground truth")
    plot_rows(rows, path, titles)
    with atomic_path(path) as tmp:  # 128 colours: a quarter of the size, for the repository
        Image.open(path).convert("RGB").quantize(128).save(tmp, format="PNG")


def train_all(args, training, test, inception):
    """Train and score every run the tables need: {run key: its result}, {run key: its test
    translations}."""
    results, translations = {}, {}
    for direction, run in needed_runs():
        start = time.perf_counter()
        g_model, skipped = train_run(run, training[direction], args)
        key = f"{direction}: {run}"
        if skipped:
            results[key] = {"skipped": skipped}
        else:
            sources, targets, palette = test[direction]
            translations[key] = translate_pixels(g_model, sources)  # paper mode, as evaluate.py
            results[key] = {"scores": score_translations(translations[key], targets, palette,
                                                         inception),
                            "seconds": time.perf_counter() - start}
        print(f"{key}: {skipped or results[key]['scores']}", flush=True)
        keras.backend.clear_session()
    return results, translations


def rescore(translations_path, json_path, test, inception):
    """The results of an earlier run (its JSON and --translations file) scored again with
    today's metrics, without training."""
    with open(json_path) as f:
        results = json.load(f)["runs"]
    translations = dict(np.load(translations_path))
    for key, generated in translations.items():
        _, targets, palette = test[key.split(": ")[0]]
        results[key]["scores"] = score_translations(generated, targets, palette, inception)
    return results, translations


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "datasets",
                                                       "facades"),
                        help="a folder with train/ and test/ pair images, photo left, labels "
                             "right (default ../shared/datasets/facades)")
    parser.add_argument("--size", type=int, default=64, help="image size (default 64)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of every run (default 1)")
    parser.add_argument("--decay-epochs", type=int, default=1,
                        help="further epochs of falling learning rate (default 1)")
    for width in ("--ngf", "--ndf"):
        parser.add_argument(width, type=int, default=32, help="G's or D's first width (32)")
    parser.add_argument("--classes", type=int, default=12,
                        help="label colours, found by k-means on the test labels (default 12: "
                             "the CMP facades' classes)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of every run (default 0)")
    parser.add_argument("--quick", action="store_true", help="32x32, widths 8, one epoch")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "paper_tables.json"),
                        help="the tables as JSON; the figures go beside it as "
                             "<name>_<table>.png (default bench/paper_tables.json)")
    parser.add_argument("--translations", metavar="FILE.npz",
                        help="also keep every run's translations of the test set there")
    parser.add_argument("--inception-weights", metavar="FILE",
                        help="InceptionV3 weights (Keras's ImageNet ones, without the top) for "
                             "FID and KID; without them the FID column stays empty")
    parser.add_argument("--rescore", metavar="FILE.npz",
                        help="train nothing: score the translations an earlier run kept in "
                             "FILE.npz (--translations) again, and rewrite its --json and "
                             "figures")
    args = parser.parse_args()
    if args.quick:
        args.size, args.ngf, args.ndf, args.epochs, args.decay_epochs = 32, 8, 8, 1, 0
    if not os.path.isdir(args.data):
        print(f"skipped: {os.path.normpath(args.data)} is absent (the facades dataset)")
        return

    train_pairs = load_dataset(os.path.join(args.data, "train"), args.size, in_memory=True)
    photos, labels = load_images(os.path.join(args.data, "test"), args.size)
    palette = kmeans_palette(labels, args.classes, seed=args.seed)
    test = {LABELS_TO_PHOTO: (labels, photos, None), PHOTO_TO_LABELS: (photos, labels, palette)}
    training = {LABELS_TO_PHOTO: train_pairs.reversed(), PHOTO_TO_LABELS: train_pairs}
    steps = (args.epochs + args.decay_epochs) * len(train_pairs)
    print(f"{len(train_pairs)} training pairs, {len(photos)} test pairs of {args.size}x"
          f"{args.size}; every run {steps} steps (batch 1), widths {args.ngf}/{args.ndf}, "
          f"seed {args.seed}")

    inception = inception_model(args.inception_weights) if args.inception_weights else None
    if args.rescore:
        results, translations = rescore(args.rescore, args.json, test, inception)
    else:
        results, translations = train_all(args, training, test, inception)

    base = os.path.splitext(args.json)[0]
    for name, table in TABLES.items():
        print("\n" + format_table(name, table, results))
        sources, targets, _ = test[table["direction"]]
        plot_table(table, translations, sources, targets,
                   f"{base}_{name.replace(' ', '_')}.png")
    report = {"data": os.path.normpath(args.data), "size": args.size, "steps": steps,
              "train_pairs": len(train_pairs), "test_pairs": len(photos), "ngf": args.ngf,
              "ndf": args.ndf, "seed": args.seed, "classes": args.classes,
              "palette": palette.tolist(), "fid": NOT_COMPARABLE if inception else None,
              "runs": results,
              "tables": {name: {"direction": table["direction"], "paper": table["paper"],
                                "rows": [{"row": label, "run": f"{table['direction']}: {run}",
                                          "paper": dict(zip(table["paper_columns"], paper))}
                                         for label, run, paper in table["rows"]]}
                         for name, table in TABLES.items()}}
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump(report, f, indent=2)
    print(f"\nsaved {args.json} and its figures {base}_<table>.png")
    if args.translations and not args.rescore:  # every test translation, to score again with other metrics
        with atomic_path(args.translations) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **translations)
        print(f"saved {args.translations}")


if __name__ == "__main__":
    main()
