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
import glob
import os

from pix2pix.backend import keras
from pix2pix.cli import add_debug_flag, add_overwrite_flag, run
from pix2pix.data.datasets import load_dataset
from pix2pix.errors import Pix2PixError
from pix2pix.model.gan import LAMBDA_L1, define_gan
from pix2pix.model.networks import (PATCH_LAYERS, PRECISIONS, define_discriminator,
                                    define_generator, set_precision)
from pix2pix.storage import check_folder
from pix2pix.training.checkpoint import find_checkpoint, merge_settings, read_settings
from pix2pix.training.distribute import DISTRIBUTIONS, make_strategy
from pix2pix.training.loop import train


# The run's settings, recorded in its checkpoint: name -> (flag, default). Their flags default
# to None, so that --resume can tell the ones given from the ones left out, which take the
# checkpoint's values; the defaults below fill in what is left.
SETTINGS = {"dataset": (None, None), "size": ("--size", 256), "reverse": ("--reverse", False),
            "batch_size": ("--batch-size", 1), "epochs": ("--epochs", 100),
            "decay_epochs": ("--decay-epochs", 0), "jitter": ("--no-jitter", True),
            "patch": ("--patch", 70), "precision": ("--precision", "float32"),
            "lambda_l1": ("--lambda-l1", LAMBDA_L1), "ngf": ("--ngf", 64), "ndf": ("--ndf", 64),
            "distribute": ("--distribute", "none")}


def check_values(args):
    """Refuse values out of range, among those given."""
    for name in ("epochs", "batch_size", "save_every", "workers", "ngf", "ndf"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise Pix2PixError(f"--{name.replace('_', '-')} must be at least 1")
    if args.sample_every < 0:
        raise Pix2PixError("--sample-every cannot be negative")
    if args.decay_epochs is not None and args.decay_epochs < 0:
        raise Pix2PixError("--decay-epochs cannot be negative")
    if args.lambda_l1 is not None and args.lambda_l1 < 0:
        raise Pix2PixError("--lambda-l1 cannot be negative")


def run_settings(args):
    """The settings given, merged with the checkpoint's when resuming, defaults filled in."""
    given = {name: getattr(args, name) for name in SETTINGS}
    given["dataset"] = os.path.realpath(args.dataset)
    checkpoint = args.resume and find_checkpoint(args.out)
    if checkpoint:
        given = merge_settings(given, read_settings(checkpoint), checkpoint,
                               {name: flag for name, (flag, _) in SETTINGS.items()},
                               longer=("epochs", "decay_epochs"))
    elif args.resume:
        print(f"no checkpoint in {args.out}; starting a new run")
    return {name: default if given[name] is None else given[name]
            for name, (_, default) in SETTINGS.items()}


def main(args):
    check_values(args)
    check_folder(args.out)
    settings = run_settings(args)
    resuming = args.resume and find_checkpoint(args.out)
    if not (resuming or args.overwrite) and \
            glob.glob(os.path.join(glob.escape(args.out), "model_*.h5")):
        raise Pix2PixError(f"{args.out}: already holds trained models (model_*.h5); add "
                           f"--resume to continue that run, --overwrite to train over it, or "
                           f"choose another --out")
    args = argparse.Namespace(**{**vars(args), **settings, "dataset": args.dataset})
    strategy = make_strategy(args.distribute)  # first: it sets up TensorFlow's devices
    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    dataset, val = load_pairs(args)
    image_shape = dataset.image_shape
    replicas = strategy.num_replicas_in_sync
    print(f"{len(dataset)} pairs of {image_shape[0]}x{image_shape[1]} images"
          f"{' (reversed: right half -> left half)' if args.reverse else ''}"
          f"{f', on {replicas} replicas' if args.distribute != 'none' else ''}")
    set_precision(args.precision)
    with strategy.scope():
        try:
            d_model = define_discriminator(image_shape, ndf=args.ndf, patch=args.patch)
            g_model = define_generator(image_shape, ngf=args.ngf)
        except ValueError as e:
            raise Pix2PixError(f"{args.dataset}: {e}") from None
        gan_model = define_gan(g_model, d_model, lambda_l1=args.lambda_l1)
    config = {"dataset": args.dataset, "reverse": args.reverse, "batch_size": args.batch_size,
              "patch": args.patch, "precision": args.precision, "ngf": args.ngf, "ndf": args.ndf,
              "lambda_l1": args.lambda_l1}
    train(gan_model, dataset, n_epochs=args.epochs,
          decay_epochs=args.decay_epochs, batch_size=args.batch_size, out_dir=args.out,
          save_every=args.save_every, checkpoint_every=args.checkpoint_every,
          jitter=args.jitter, config=config, settings=settings, seed=args.seed,
          resume=args.resume, workers=args.workers, strategy=strategy, logdir=args.logdir,
          sample_every=args.sample_every, val=val)


def load_pairs(args):
    """The training pairs and the held-out ones (--val, or None), in the run's direction."""
    dataset = load_dataset(args.dataset, args.size)
    val = load_dataset(args.val, dataset.image_shape[0], in_memory=True) if args.val else None
    if val is not None and val.image_shape != dataset.image_shape:
        raise Pix2PixError(f"--val {args.val}: images of {val.image_shape[0]}x"
                           f"{val.image_shape[1]}, the run trains at {dataset.image_shape[0]}x"
                           f"{dataset.image_shape[1]}")
    if args.reverse:
        dataset = dataset.reversed()
        val = val.reversed() if val is not None else None
    return dataset, val


def build_parser():
    parser = argparse.ArgumentParser(
        description="Train a pix2pix generator (U-Net) and discriminator (70x70 PatchGAN). Saves "
                    "models/model_<step>.h5 (the generator) and models/plot_<step>.png every "
                    "--save-every epochs and at the end, a full checkpoint (models/checkpoint.h5) "
                    "every epoch and on Ctrl-C, every step's losses in models/losses.csv, and "
                    "TensorBoard logs in models/logs (tensorboard --logdir models/logs).")
    parser.add_argument("dataset", help="npz file from prepare_dataset.py, or a folder of "
                        "side-by-side pair images (read as needed: any number of images fits)")
    parser.add_argument("--epochs", type=int,
                        help="epochs at the full learning rate 2e-4 (default 100)")
    parser.add_argument("--decay-epochs", type=int,
                        help="further epochs over which the rate falls linearly to zero (default "
                             "0; the paper's recipe is --epochs 100 --decay-epochs 100)")
    parser.add_argument("--batch-size", type=int, help="pairs per step (default 1, "
                        "as the paper; it used 4 for edges2shoes)")
    parser.add_argument("--no-jitter", dest="jitter", action="store_false", default=None,
                        help="turn off the paper's random jitter (resize to 286/256, random "
                             "crop) and mirroring of each training pair")
    parser.add_argument("--patch", type=int, choices=sorted(PATCH_LAYERS),
                        help="receptive field of the discriminator in pixels (default 70, the "
                             "paper's choice; 1, 16 and 286 are the others of its study)")
    parser.add_argument("--ngf", type=int,
                        help="width of G's first layer, doubling up to 8x deeper in (default 64, "
                             "the paper's)")
    parser.add_argument("--ndf", type=int,
                        help="width of D's first layer, doubling up to 8x (default 64)")
    parser.add_argument("--lambda-l1", type=float,
                        help=f"weight of the L1 term in G's loss (default {LAMBDA_L1:g}, the "
                             f"paper's lambda)")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="float32 (default, the paper's) or bfloat16: mixed precision, "
                             "about 1.6x faster on a CPU with AVX512_BF16, possibly slower on "
                             "CPUs without it; the weights stay float32 either way")
    parser.add_argument("--size", type=int,
                        help="image size when training from a folder (default 256)")
    parser.add_argument("--save-every", type=int, default=10,
                        help="save the generator and a plot every N epochs (default 10)")
    parser.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                        help="save a full checkpoint every N steps (default: every epoch)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint in --out, if there is one, with the "
                             "settings it records (dataset, size, direction, batch size, epochs, "
                             "jitter, patch, precision, lambda, widths, distribution): flags "
                             "that contradict them are refused; --epochs and --decay-epochs may "
                             "be raised")
    parser.add_argument("--out", default="models", help="output folder (default models)")
    parser.add_argument("--logdir", help="TensorBoard logs: losses and learning rate every "
                        "step, samples, held-out scores (default <out>/logs)")
    parser.add_argument("--sample-every", type=int, default=1000, metavar="STEPS",
                        help="log a few source / generated / target images to TensorBoard "
                             "every N steps (default 1000; 0: never)")
    parser.add_argument("--val", metavar="DATA",
                        help="held-out pairs (npz or folder): their MAE, PSNR and SSIM are "
                             "printed and logged at every save, and TensorBoard's samples "
                             "come from them")
    parser.add_argument("--distribute", choices=DISTRIBUTIONS,
                        help="train on all GPUs of this machine (mirrored) or on several "
                             "machines, each started with its own TF_CONFIG (multiworker); "
                             "--batch-size is the global batch, split across the devices, and "
                             "BatchNorm pools their statistics (default none)")
    parser.add_argument("--reverse", action="store_true", default=None,
                        help="translate right to left (maps: map -> satellite)")
    parser.add_argument("--workers", type=int, default=4,
                        help="background threads preparing batches (default 4)")
    parser.add_argument("--seed", type=int, help="seed everything, for a repeatable run")
    add_overwrite_flag(parser, "the models in --out")
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
