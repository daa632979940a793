"""Train pix2pix on a prepared npz dataset or a folder of side-by-side pair images.

    python train.py data/maps_256.npz                # satellite -> map, 100 epochs, batch 1
    python train.py data/maps_256.npz --reverse      # map -> satellite
    python train.py data/maps_256.npz --epochs 100 --decay-epochs 100   # the paper's recipe
    python train.py data/edges2shoes/train --batch-size 4               # streamed from a folder
    python train.py data/maps_256.npz --distribute mirrored --batch-size 4   # all local GPUs

The algorithm, as in the paper:
  1. D, a 70x70 PatchGAN, sees (source, target) pairs and labels every patch real (1) or fake (0).
  2. G, a U-Net, translates the source; G learns to make D answer "real" (binary cross-entropy)
     and to stay close to the target (L1, weight 100).
  3. Each step computes G(source) once, updates D on the real and the generated pair, then G
     through the updated D: one compiled call of the composite model (pix2pix/gan.py).
Every --save-every epochs the generator is saved as models/model_<step>.h5 with a plot;
`tensorboard --logdir models/logs` shows the losses and samples as it trains.
"""
import argparse
import contextlib
import dataclasses
import glob
import os

from pix2pix.backend import (auto_precision, cpu_flags, gpu_capabilities, keras,
                              only_python_stderr, start_devices, tf)
from pix2pix.cli import add_debug_flag, add_overwrite_flag, run
from pix2pix.data.datasets import load_dataset
from pix2pix.errors import Pix2PixError
from pix2pix.model.gan import define_gan
from pix2pix.model.networks import define_discriminator, define_generator, set_precision
from pix2pix.storage import check_folder
from pix2pix.training.checkpoint import find_checkpoint, read_settings
from pix2pix.training.config import (FIELDS, add_run_flags, given_settings, resume_settings,
                                     with_defaults)
from pix2pix.training.distribute import make_strategy
from pix2pix.training.loop import prepared, train


def main(args):
    given = given_settings(args)
    check_folder(args.out)
    checkpoint = args.resume and find_checkpoint(args.out)
    if checkpoint:
        if given["precision"] == "auto":  # chosen when the run started, and recorded
            given["precision"] = None
        given = resume_settings(given, read_settings(checkpoint), checkpoint)
    elif args.resume:
        print(f"no checkpoint in {args.out}; starting a new run")
    if not (checkpoint or args.overwrite) and \
            glob.glob(os.path.join(glob.escape(args.out), "model_*.*")):
        raise Pix2PixError(f"{args.out}: already holds trained models (model_*); add "
                           f"--resume to continue that run, --overwrite to train over it, or "
                           f"choose another --out")
    config = with_defaults(given)
    strategy = make_strategy(config.distribute)  # first: it sets up TensorFlow's devices
    where = start_devices()
    why = ""
    if config.precision == "auto":
        precision, why = auto_precision(cpu_flags(), gpu_capabilities() if "GPU" in where else [])
        config = dataclasses.replace(config, precision=precision)
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)
    if config.deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    dataset, val = load_pairs(config, args.dataset)
    _, (height, width) = prepared(config, dataset)
    image_shape = (height, width, dataset.image_shape[2])
    target_channels = dataset.target_shape[2]
    replicas = strategy.num_replicas_in_sync
    print(f"{len(dataset)} pairs of {dataset.image_shape[0]}x{dataset.image_shape[1]} images "
          f"({image_shape[2]} -> {target_channels} channels, {dataset.dtype.itemsize * 8}-bit), "
          f"trained on {config.preprocess} {height}x{width}"
          f"{' (reversed: right half -> left half)' if config.reverse else ''}"
          f"{f', on {replicas} replicas' if config.distribute != 'none' else ''}; training on "
          f"{where} in {config.precision}{f' ({why})' if why else ''}")
    set_precision(config.precision)
    with strategy.scope():
        try:
            d_model = define_discriminator(image_shape, config.ndf, config.patch, config.norm,
                                           target_channels, conditional=config.conditional)
            g_model = define_generator(image_shape, config.ngf, config.netG, config.norm,
                                       config.dropout, out_channels=target_channels)
        except ValueError as e:
            raise Pix2PixError(f"{args.dataset}: {e}") from None
        gan_model = define_gan(g_model, d_model, config.lambda_l1,
                               config.gan_mode if config.gan else None, config.lr, config.beta1)
    # TensorFlow logs from its own threads as it trains; --debug shows those lines too.
    with contextlib.nullcontext() if args.debug else only_python_stderr():
        train(gan_model, dataset, config, resume=args.resume, strategy=strategy, val=val)


def load_pairs(config, path):
    """The training pairs and the held-out ones (--val, or None), in the run's direction."""
    # Only the paper's jitter resizes a folder's images on reading; the other modes take
    # them at their own resolution, as the authors' do.
    dataset = load_dataset(path, config.size if config.preprocess == "resize_and_crop" else None)
    _, (height, width) = prepared(config, dataset)
    val = load_dataset(config.val, (height, width), in_memory=True) if config.val else None
    if val is not None and (val.image_shape[:2] != (height, width) or
                            val.image_shape[2] != dataset.image_shape[2] or
                            val.dtype != dataset.dtype):
        raise Pix2PixError(f"--val {config.val}: {val.dtype} images of {val.image_shape[1]}x"
                           f"{val.image_shape[0]}x{val.image_shape[2]}, the run trains on "
                           f"{dataset.dtype} images of {width}x{height}x{dataset.image_shape[2]}")
    if config.reverse:
        dataset = dataset.reversed()
        val = val.reversed() if val is not None else None
    return dataset, val


def build_parser():
    parser = argparse.ArgumentParser(
        description="Train a pix2pix generator (by default the paper's U-Net) and discriminator "
                    "(by default its 70x70 PatchGAN). Saves "
                    "models/model_<step>.h5 (the generator) and models/plot_<step>.png every "
                    "--save-every epochs and at the end, a full checkpoint (models/checkpoint.h5) "
                    "every epoch and on Ctrl-C, every step's losses in models/losses.csv, and "
                    "TensorBoard logs in models/logs (tensorboard --logdir models/logs).")
    parser.add_argument("dataset", help=FIELDS["dataset"].metadata["help"])
    add_run_flags(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint in --out, if there is one, with the "
                             "settings it records (dataset, size, direction, batch size, epochs, "
                             "jitter, patch, widths, lambda, precision, distribution): flags "
                             "that contradict them are refused; --epochs and --decay-epochs may "
                             "be raised")
    add_overwrite_flag(parser, "the models in --out")
    add_debug_flag(parser, ", and TensorFlow's own log lines while training")
    return parser


if __name__ == "__main__":
    run(main, build_parser())
