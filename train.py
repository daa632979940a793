"""Train pix2pix on a prepared npz dataset.

    python train.py data/maps_256.npz                # satellite -> map, 100 epochs, batch 1
    python train.py data/maps_256.npz --reverse      # map -> satellite

The algorithm, as in the paper:
  1. D, a 70x70 PatchGAN, sees (source, target) pairs and labels every patch real (1) or fake (0).
  2. G, a U-Net, translates the source; the composite model G -> frozen D trains G to make D
     answer "real" (binary cross-entropy) and to stay close to the target (L1, weight 100).
  3. Each step updates D on a real pair, D on a generated pair, then G through the composite.
Every --save-every epochs the generator is saved as models/model_<step>.h5 with a plot.
"""
import argparse
import glob
import os

from pix2pix.cli import InputError, add_debug_flag, add_overwrite_flag, run
from pix2pix.data import load_real_samples
from pix2pix.networks import PATCH_LAYERS, define_discriminator, define_gan, define_generator
from pix2pix.storage import check_folder
from pix2pix.training import seed_everything, train


def main(args):
    if args.epochs < 1 or args.batch_size < 1 or args.save_every < 1:
        raise InputError("--epochs, --batch-size and --save-every must be at least 1")
    check_folder(args.out)
    if not args.overwrite and glob.glob(os.path.join(glob.escape(args.out), "model_*.h5")):
        raise InputError(f"{args.out}: already holds trained models (model_*.h5); add --overwrite "
                         f"to train over them, or choose another --out")
    if args.seed is not None:
        seed_everything(args.seed)
    src_images, tar_images = load_real_samples(args.dataset)
    if args.reverse:
        src_images, tar_images = tar_images, src_images
    print(f"loaded {len(src_images)} pairs of {src_images.shape[1]}x{src_images.shape[2]} images"
          f"{' (reversed: right half -> left half)' if args.reverse else ''}")
    image_shape = src_images.shape[1:]
    try:
        d_model = define_discriminator(image_shape, patch=args.patch)
        g_model = define_generator(image_shape)
    except ValueError as e:
        raise InputError(f"{args.dataset}: {e}") from None
    gan_model = define_gan(g_model, d_model, image_shape)
    config = {"dataset": args.dataset, "reverse": args.reverse, "batch_size": args.batch_size,
              "patch": args.patch}
    train(d_model, g_model, gan_model, (src_images, tar_images), n_epochs=args.epochs,
          n_batch=args.batch_size, out_dir=args.out, save_every=args.save_every, config=config,
          seed=args.seed)


def build_parser():
    parser = argparse.ArgumentParser(
        description="Train a pix2pix generator (U-Net) and discriminator (70x70 PatchGAN) on an "
                    "npz dataset from prepare_dataset.py. Saves models/model_<step>.h5 (the "
                    "generator) and models/plot_<step>.png every --save-every epochs and at the "
                    "end; every step's losses go to models/losses.csv.")
    parser.add_argument("dataset", help="npz file from prepare_dataset.py")
    parser.add_argument("--epochs", type=int, default=100,
                        help="passes over the training pairs (default 100)")
    parser.add_argument("--batch-size", type=int, default=1, help="pairs per step (default 1, "
                        "as the paper)")
    parser.add_argument("--save-every", type=int, default=10,
                        help="save the generator and a plot every N epochs (default 10)")
    parser.add_argument("--out", default="models", help="output folder (default models)")
    parser.add_argument("--reverse", action="store_true",
                        help="translate right to left (maps: map -> satellite)")
    parser.add_argument("--patch", type=int, default=70, choices=sorted(PATCH_LAYERS),
                        help="receptive field of the discriminator in pixels (default 70, the "
                             "paper's choice; 1, 16 and 286 are the others of its study)")
    parser.add_argument("--seed", type=int, help="seed everything, for a repeatable run")
    add_overwrite_flag(parser, "the models in --out")
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
