"""The pix2pix training loop: alternate one discriminator update and one generator update.

Each step follows the paper (and the authors' code): D learns to tell a real pair (source,
target) from a generated one (source, G(source)), each patch labelled 1 or 0; then G, through the
composite model with D frozen, learns to make D answer 1 on its output while staying within a
mean absolute error of the target, weighted 100.
"""
import csv
import os

import keras
import numpy as np
from tqdm import tqdm

from pix2pix.data import scale_images, unscale_images
from pix2pix.inference import save_generator, translate_images
from pix2pix.plotting import plot_translations


def seed_everything(seed):
    """Seed Python, NumPy and the Keras backend, so that a run can be repeated."""
    keras.utils.set_random_seed(seed)


def generate_real_samples(dataset, indices):
    """A batch of real pairs as floats in [-1, 1]."""
    src_images, tar_images = dataset
    return scale_images(src_images[indices]), scale_images(tar_images[indices])


def generate_fake_samples(g_model, src):
    """G's translation of a batch, computed as in training: batch statistics and dropout on."""
    return keras.ops.convert_to_numpy(g_model(src, training=True))


def train_step(d_model, g_model, gan_model, src, tar):
    """One pix2pix update on a float batch in [-1, 1]; returns (d_loss_real, d_loss_fake, g_loss).

    Keras 3 traces a model's train function the first time it is called, with whatever is
    trainable at that moment, and keeps it. D must therefore be trainable when its own update
    runs and frozen when the composite's runs, from the very first step on.
    """
    patch_shape = (len(src),) + d_model.output_shape[1:]
    real = np.ones(patch_shape, dtype=np.float32)
    fake = np.zeros(patch_shape, dtype=np.float32)
    fake_tar = generate_fake_samples(g_model, src)
    d_model.trainable = True
    d_loss_real = d_model.train_on_batch([src, tar], real)
    d_loss_fake = d_model.train_on_batch([src, fake_tar], fake)
    d_model.trainable = False
    g_loss, _, _ = gan_model.train_on_batch(src, [real, tar])
    return float(d_loss_real), float(d_loss_fake), float(g_loss)


def summarize_performance(step, g_model, dataset, out_dir, config, rng, n_samples=3):
    """Save the generator as models/model_<step>.h5 and a plot of a few random translations."""
    indices = rng.choice(len(dataset[0]), size=min(n_samples, len(dataset[0])), replace=False)
    src, tar = generate_real_samples(dataset, indices)
    gen = translate_images(g_model, src)
    plot_path = os.path.join(out_dir, f"plot_{step:06d}.png")
    plot_translations(unscale_images(src), unscale_images(gen), unscale_images(tar), plot_path)
    model_path = os.path.join(out_dir, f"model_{step:06d}.h5")
    save_generator(g_model, model_path, dict(config, step=step))
    return model_path, plot_path


def train(d_model, g_model, gan_model, dataset, n_epochs=100, n_batch=1, out_dir="models",
          save_every=10, config=None, seed=None):
    """Train for n_epochs passes over the pairs, saving the generator every `save_every` epochs.

    Every step's losses go to <out_dir>/losses.csv. Returns the path of the last saved model.
    """
    rng = np.random.default_rng(seed)
    n_pairs = len(dataset[0])
    steps_per_epoch = max(1, n_pairs // n_batch)
    config = dict(config or {}, image_size=int(dataset[0].shape[1]))
    os.makedirs(out_dir, exist_ok=True)
    model_path = None
    quiet_steps = 0  # consecutive steps with D's losses near zero
    with open(os.path.join(out_dir, "losses.csv"), "w", newline="") as log_file:
        log = csv.writer(log_file)
        log.writerow(["step", "epoch", "d_loss_real", "d_loss_fake", "g_loss"])
        bar = tqdm(total=steps_per_epoch * n_epochs, unit="step", desc="training")
        step = 0
        for epoch in range(n_epochs):
            order = rng.permutation(n_pairs)
            for b in range(steps_per_epoch):
                src, tar = generate_real_samples(dataset, order[b * n_batch:(b + 1) * n_batch])
                d1, d2, g = train_step(d_model, g_model, gan_model, src, tar)
                step += 1
                log.writerow([step, epoch + 1, f"{d1:.5f}", f"{d2:.5f}", f"{g:.5f}"])
                bar.set_postfix(epoch=epoch + 1, d_real=f"{d1:.3f}", d_fake=f"{d2:.3f}",
                                g=f"{g:.3f}")
                bar.update()
                # D answering perfectly for long means G no longer gets a useful signal.
                quiet_steps = quiet_steps + 1 if max(d1, d2) < 0.01 else 0
                if quiet_steps == 1000:
                    tqdm.write(f"warning: D's losses have stayed near zero for 1000 steps (step "
                               f"{step}); this run has probably failed (G's samples are too easy "
                               f"to tell apart)")
            log_file.flush()
            if (epoch + 1) % save_every == 0 or epoch + 1 == n_epochs:
                model_path, plot_path = summarize_performance(
                    step, g_model, dataset, out_dir, dict(config, epoch=epoch + 1), rng)
                tqdm.write(f"epoch {epoch + 1}: saved {model_path} and {plot_path}")
        bar.close()
    return model_path
