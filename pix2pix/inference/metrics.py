"""How close translations are to their targets: image metrics, label-map scores and baselines.

Every metric compares uint8 images, (N, size, size, 3), generated against target:
- `mae`: mean absolute error in the networks' [-1, 1] range (the L1 term of the paper's loss);
- `psnr`: peak signal-to-noise ratio in dB (scikit-image, data range 255), capped at 100 dB for an
  exact copy, whose true value is infinite;
- `ssim`: structural similarity with scikit-image's defaults (a 7x7 uniform window, sample
  covariance), the figures of bench/*.json and of the training logs' `val/ssim`;
- `ssim gaussian`: structural similarity as Wang et al. (2004) define it and papers and
  `tf.image.ssim` compute it: an 11x11 Gaussian window of sigma 1.5, population covariance,
  K1 = 0.01, K2 = 0.03, data range 255;
- `pixels within 5`: the share of pixels within 5 of the target in every channel, the maps
  accuracy of the paper's supplement.
For label maps (cityscapes, facades labels) a palette turns each pixel into the class of its
nearest colour, and `label_scores` gives the paper's per-pixel accuracy, per-class accuracy and
class IoU. The scores of whole sets (colour histograms, FID, KID) are in `distributions`.
"""
import json

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from tqdm import tqdm

from pix2pix.backend import keras
from pix2pix.data.images import top_value
from pix2pix.errors import Pix2PixError
from pix2pix.inference.distributions import (add_counts, histogram_intersections,
                                             lab_histograms)
from pix2pix.inference.generator import translate_pixels
from pix2pix.inference.inception import inception_distances, inception_features


PSNR_CAP = 100.0
IMAGE_METRICS = ("mae", "psnr", "ssim", "ssim gaussian", "pixels within 5")


def ssim_gaussian(a, b, data_range=255):
    """Wang et al.'s SSIM of two images (H, W, C), the mean over the channels."""
    # scikit-image truncates its Gaussian to 11 taps at sigma 1.5, as tf.image.ssim does.
    return structural_similarity(a, b, channel_axis=-1, data_range=data_range,
                                 gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, K1=0.01, K2=0.03)


def image_scores(generated, targets, max_value=None):
    """Per-image metrics of uint8 or uint16 images, {metric: array of N values}, on the scale
    the networks saw: 0 to `max_value` (by default the type's largest, 255 or 65535), "within 5"
    meaning 5 of 255 of it."""
    top = top_value(targets.dtype, max_value)
    difference = np.abs(generated.astype(np.int32) - targets.astype(np.int32))
    with np.errstate(divide="ignore"):  # an exact copy has an infinite PSNR: capped
        psnr = [min(PSNR_CAP, peak_signal_noise_ratio(t, g, data_range=top))
                for g, t in zip(generated, targets)]
    ssim = [structural_similarity(t, g, channel_axis=-1, data_range=top)
            for g, t in zip(generated, targets)]
    return {"mae": difference.mean(axis=(1, 2, 3)) / (top / 2),
            "psnr": np.array(psnr),
            "ssim": np.array(ssim),
            "ssim gaussian": np.array([ssim_gaussian(t, g, data_range=top)
                                       for g, t in zip(generated, targets)]),
            "pixels within 5": (difference <= 5 * top / 255).all(axis=-1).mean(axis=(1, 2))}


# ---------------------------------------------------------------------------------------------
# Label maps

def load_palette(path):
    """Read RGB colours: JSON ([[r, g, b], ...]) or text, one colour a line ("r g b" or "r,g,b")."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise Pix2PixError(f"{path}: cannot read the palette ({e.strerror or e})") from None
    try:
        colours = json.loads(text) if text.lstrip().startswith("[") else [
            [int(v) for v in line.replace(",", " ").split()]
            for line in text.splitlines() if line.strip() and not line.startswith("#")]
        palette = np.array(colours, dtype=np.int64)
    except ValueError as e:
        raise Pix2PixError(f"{path}: not a palette of RGB colours ({e})") from None
    if palette.ndim != 2 or palette.shape[1] != 3 or len(palette) < 2 \
            or palette.min() < 0 or palette.max() > 255:
        raise Pix2PixError(f"{path}: a palette needs at least two colours of three values 0-255, "
                           f"found {palette.tolist()}")
    return palette.astype(np.uint8)


def kmeans_palette(images, k, seed=0, n_pixels=100_000, n_iter=30):
    """Find k colours of uint8 images by k-means on a random sample of their pixels."""
    rng = np.random.default_rng(seed)
    pixels = images.reshape(-1, 3)
    pixels = pixels[rng.choice(len(pixels), min(n_pixels, len(pixels)), replace=False)]
    pixels = pixels.astype(np.float64)
    distinct = np.unique(pixels, axis=0)
    if len(distinct) < k:
        raise Pix2PixError(f"--classes {k}: the targets hold only {len(distinct)} distinct colours")
    centres = distinct[rng.choice(len(distinct), k, replace=False)]
    for _ in range(n_iter):
        nearest = ((pixels[:, None, :] - centres[None]) ** 2).sum(-1).argmin(axis=1)
        for c in range(k):
            if np.any(nearest == c):
                centres[c] = pixels[nearest == c].mean(axis=0)
    return np.round(centres).astype(np.uint8)


def nearest_labels(images, palette):
    """The index of each pixel's nearest palette colour: (..., 3) uint8 -> (...) int."""
    distances = ((images[..., None, :].astype(np.int32) - palette.astype(np.int32)) ** 2).sum(-1)
    return distances.argmin(axis=-1)


def confusion_matrix(generated, targets, palette):
    """k x k counts of pixels: rows the target's class, columns the generated class."""
    k = len(palette)
    target_labels = nearest_labels(targets, palette).ravel()
    generated_labels = nearest_labels(generated, palette).ravel()
    return np.bincount(target_labels * k + generated_labels, minlength=k * k).reshape(k, k)


def label_scores(confusion):
    """The paper's per-pixel accuracy, mean per-class accuracy and mean class IoU.

    The per-class means run over the classes present in the targets.
    """
    hits = np.diag(confusion).astype(np.float64)
    in_target, in_generated = confusion.sum(axis=1), confusion.sum(axis=0)
    present = in_target > 0
    return {"per-pixel acc": hits.sum() / confusion.sum(),
            "per-class acc": np.mean(hits[present] / in_target[present]),
            "class IoU": np.mean(hits[present] / (in_target + in_generated - hits)[present])}


# ---------------------------------------------------------------------------------------------
# A generator against the baselines

def baselines(g_model, targets, mode="paper", max_value=None):
    """The answers compared, name -> function(uint8 sources) -> uint8 images.

    `model` is the generator; `source` copies the input as the answer; `untrained` is a freshly
    initialised generator of the same structure (U-Net or ResNet, widths, normalization);
    `mean target` answers every input with the mean of the targets.
    """
    untrained = keras.models.clone_model(g_model)  # new layers, new initial weights
    mean_target = targets.mean(axis=0).round().astype(targets.dtype)
    answers = {
        "model": lambda sources: translate_pixels(g_model, sources, mode, max_value),
        "source": lambda sources: sources,
        "untrained": lambda sources: translate_pixels(untrained, sources, mode, max_value),
        "mean target": lambda sources: np.broadcast_to(mean_target,
                                                       (len(sources), *mean_target.shape)),
    }
    if g_model.input_shape[-1] != g_model.output_shape[-1]:  # a source is no answer then
        del answers["source"]
    return answers


def evaluate_answers(answers, sources, targets, palette=None, batch=16, colours=False,
                     inception=None, max_value=None):
    """Score each answer on the pairs: {name: {metric: mean value}}.

    With a palette, the label-map scores come too; with `colours`, the intersections of the Lab
    histograms of all the answers and all the targets; with an `inception` model
    (inception.inception_model), FID and KID. Pairs go through `batch` at a time, with a
    progress bar, so that a large dataset never needs all its answers in memory. `max_value`
    is the pixel value the networks saw as 1 (see `image_scores`).
    """
    totals = {name: {m: 0.0 for m in IMAGE_METRICS} for name in answers}
    confusions = {name: 0 for name in answers}
    histograms, target_histograms = {name: None for name in answers}, None
    features, target_features = {name: [] for name in answers}, []
    with tqdm(total=len(sources) * len(answers), unit="image", desc="evaluating") as bar:
        for start in range(0, len(sources), batch):
            source_batch = sources[start:start + batch]
            target_batch = targets[start:start + batch]
            if colours:
                target_histograms = add_counts(target_histograms, lab_histograms(target_batch))
            if inception is not None:
                target_features.append(inception_features(inception, target_batch))
            for name, answer in answers.items():
                generated = answer(source_batch)
                for metric, values in image_scores(generated, target_batch, max_value).items():
                    totals[name][metric] += float(values.sum())
                if palette is not None:
                    confusion = confusion_matrix(generated, target_batch, palette)
                    confusions[name] = confusions[name] + confusion
                if colours:
                    histograms[name] = add_counts(histograms[name], lab_histograms(generated))
                if inception is not None:
                    features[name].append(inception_features(inception, generated))
                bar.update(len(source_batch))
    results = {}
    for name in answers:
        results[name] = {m: total / len(sources) for m, total in totals[name].items()}
        if palette is not None:
            results[name].update(label_scores(confusions[name]))
        if colours:
            results[name].update(histogram_intersections(histograms[name], target_histograms))
        if inception is not None:
            results[name].update(inception_distances(features[name], target_features))
    return results


def heldout_scores(g_model, sources, targets, mode="paper", palette=None, colours=False,
                   inception=None, max_value=None):
    """A generator and the three baselines scored on the pairs (see `evaluate_answers`)."""
    return evaluate_answers(baselines(g_model, targets, mode, max_value), sources, targets,
                            palette, colours=colours, inception=inception, max_value=max_value)


def format_table(results):
    """The results as a plain-text table, one row per answer, one column per metric."""
    metrics = list(next(iter(results.values())))
    widths = [max(11, len(m)) for m in metrics]
    lines = ["  ".join([f"{'':<12}"] + [f"{m:>{w}}" for m, w in zip(metrics, widths)])]
    for name, scores in results.items():
        lines.append("  ".join([f"{name:<12}"] + [f"{scores[m]:>{w}.4f}"
                                                  for m, w in zip(metrics, widths)]))
    return "\n".join(lines)


def palette_for(palette_path, classes, targets, seed=0):
    """The palette of --palette FILE, or k-means colours of the targets for --classes K."""
    if palette_path:
        return load_palette(palette_path)
    return kmeans_palette(targets, classes, seed=seed)
