"""Translate images with a trained generator.

    python translate.py models/model_109600.h5 satellite.jpg -o map.png
    python translate.py --pretrained sat2map satellite.jpg -o map.png   # the authors' generator
    python translate.py models/model_109600.h5 photos/ -o maps/          # a folder in, a folder out
    python translate.py models/model_109600.h5 --dataset data/maps_256.npz -o plot.png
    python translate.py models/model_109600.h5 satellite.jpg --full-size -o map.png  # its own size
    python translate.py models/model_109600.h5 big.jpg --tile 512 -o big_map.png     # in tiles
    python translate.py models/colorize.h5 old_photo.jpg -o coloured.png   # L -> ab -> RGB

A model keeps the channels and bit depth it was trained on: a 1-channel result is written as
a grayscale image, a 16-bit one as a 16-bit PNG (grayscale) or TIFF (colour, other channel
counts); a colorization model takes any photo and writes an RGB image of the photo's size.
"""
import argparse
import os
import sys

import numpy as np

from pix2pix.cli import (add_debug_flag, add_generator_flags, add_mode_flags, add_overwrite_flag,
                         load_named_generator, name_generator, run)
from pix2pix.data.datasets import load_dataset
from pix2pix.data.colorization import lightness_of, pair_to_photo
from pix2pix.data.images import (IMAGE_EXTENSIONS, list_images, open_image, open_rgb,
                                 resize_array, save_image)
from pix2pix.errors import Pix2PixError
from pix2pix.inference.fullsize import check_tile, generator_stride, translate_full_size_pixels
from pix2pix.inference.generator import check_fits, translate_pixels
from pix2pix.inference.plotting import PLOT_EXTENSIONS, plot_translations
from pix2pix.storage import check_output


def main(args):
    check_arguments(args)

    # 1. The generator, loaded once: its results' file type depends on it.
    g_model, config = load_model(args)
    extension = result_extension(g_model, config)

    # 2. What to translate, and where each result goes: (input, output) jobs.
    args.output = args.output or default_output(args, extension)
    if args.dataset:
        jobs, extensions = [(args.dataset, args.output)], PLOT_EXTENSIONS
    else:
        jobs, extensions = image_jobs(args.input, args.output, extension), IMAGE_EXTENSIONS

    # 3. Every output, checked before any work is done.
    for _, output in jobs:
        check_output(output, args.overwrite, extensions)

    # 4. The translations, each written atomically.
    if args.dataset:
        translate_dataset_pair(g_model, config, args)
    else:
        translate_each(g_model, config, jobs, args)


def check_arguments(args):
    """Refuse arguments that contradict each other."""
    name_generator(args, after=["input"])
    if (args.input is None) == (args.dataset is None):
        raise Pix2PixError("give either an image or folder to translate, or --dataset")
    if args.dataset and (args.full_size or args.tile is not None):
        raise Pix2PixError("--full-size and --tile are for image files; --dataset pairs already "
                           "have the model's size")


def result_extension(g_model, config):
    """.png, or .tif for what PNG cannot hold (16-bit colour, 2 or more than 3 channels)."""
    channels = 3 if config.get("colorization") else g_model.output_shape[-1]
    png_fits = channels == 1 or (channels == 3 and config.get("bit_depth", 8) == 8)
    return ".png" if png_fits else ".tif"


def default_output(args, extension=".png"):
    """translation.png for --dataset; photo_translated.png (or .tif) for photo.jpg;
    photos_translated for a folder photos/."""
    if args.dataset:
        return "translation.png"
    if os.path.isdir(args.input):
        return args.input.rstrip("/") + "_translated"
    return os.path.splitext(args.input)[0] + "_translated" + extension


def image_jobs(path, output, extension=".png"):
    """(image, output file) jobs: the image file itself, or every image of a folder, each into a
    PNG (or TIFF) of the same name in the output folder."""
    if not os.path.isdir(path):
        return [(path, output)]
    images = list_images(path)
    if not images:
        raise Pix2PixError(f"{path}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")
    if os.path.exists(output) and not os.path.isdir(output):
        raise Pix2PixError(f"{output}: is a file; give a folder for the translations")
    return [(image, os.path.join(output, os.path.splitext(os.path.basename(image))[0] + extension))
            for image in images]


def load_model(args):
    """The generator (for --pretrained, downloaded and converted the first time), once --tile is
    known to fit it."""
    g_model, config = load_named_generator(args)
    if args.tile is not None:
        check_tile(args.tile, generator_stride(g_model))
    return g_model, config


def translate_dataset_pair(g_model, config, args):
    """Plot source, translation and target of one pair of --dataset, in the model's direction."""
    dataset = load_dataset(args.dataset, g_model.input_shape[1:3])
    if config.get("reverse"):
        dataset = dataset.reversed()
    check_fits(g_model, dataset.image_shape, args.dataset)
    index = np.random.default_rng().integers(len(dataset)) if args.index is None else args.index
    if not 0 <= index < len(dataset):
        raise Pix2PixError(f"--index {index} is out of range: {args.dataset} has {len(dataset)} "
                           f"pairs")
    source, target = (image[np.newaxis] for image in dataset[index])
    generated = translate_pixels(g_model, source, args.mode, config.get("max_value"))
    plot_translations(source, generated, target, args.output, config.get("colorization", False))
    print(f"translated pair {index} of {args.dataset}; saved {args.output}")


def translate_each(g_model, config, jobs, args):
    """Translate each (image, output) job. An image of a folder that cannot be read is named and
    skipped; an image given by name must be readable."""
    in_folder = os.path.isdir(args.input)
    done = 0
    for path, output in jobs:
        try:
            if not os.path.isfile(path):
                raise Pix2PixError(f"{path}: no such file or folder")
            image = open_source(path, g_model, config)
        except Pix2PixError as e:
            if not in_folder:
                raise
            print(f"skipping {e}", file=sys.stderr)
            continue
        translate_file(g_model, config, image, output, args.mode, args.full_size, args.tile)
        done += 1
    if not in_folder:
        print(f"translated {args.input} into {args.output}")
    elif done:
        print(f"translated {done} of {len(jobs)} images into {args.output}")
    else:
        raise Pix2PixError(f"{args.input}: none of its {len(jobs)} images could be read")


def open_source(path, g_model, config):
    """The image at `path` as the model takes it: for an 8-bit RGB model (and colorization) any
    image converted to RGB; for others, one of another channel count or bit depth than the
    model's is refused, naming it."""
    channels, bits = g_model.input_shape[-1], config.get("bit_depth", 8)
    if config.get("colorization") or (channels == 3 and bits == 8):  # any photo, as RGB
        return np.asarray(open_rgb(path))
    image = open_image(path)
    if image.shape[2] != channels or image.dtype.itemsize * 8 != bits:
        raise Pix2PixError(f"{path}: {image.shape[2]}-channel {image.dtype.itemsize * 8}-bit, "
                           f"but the model translates {channels}-channel {bits}-bit images")
    return image


def translate_file(g_model, config, image, out_path, mode, full_size=False, tile=None):
    """Translate an image array (any size) and save the result: at the model's size, or with
    `full_size` (or a `tile` size) at the image's own size. A colorization model translates the
    photo's L and writes L with the translated ab as RGB, at the photo's size."""
    photo = image if config.get("colorization") else None
    if photo is not None:
        image = lightness_of(photo)
    max_value = config.get("max_value")
    if full_size or tile is not None:
        generated = translate_full_size_pixels(g_model, image, mode, tile, max_value)
    else:
        resized = resize_array(image, *g_model.input_shape[1:3])[np.newaxis]
        generated = translate_pixels(g_model, resized, mode, max_value)[0]
    if photo is not None:
        ab = resize_array(generated, *image.shape[:2])  # back to the photo's size
        generated = pair_to_photo(image, ab)
    save_image(generated, out_path)


def build_parser():
    parser = argparse.ArgumentParser(
        description="Translate an image, a folder of images, or a dataset pair with a generator "
                    "saved by train.py. Any image size and mode is accepted: it is converted to "
                    "RGB, turned upright as its EXIF orientation says, and resized to the "
                    "model's input size (or, with --full-size, translated at its own size). As "
                    "in the paper, the generator runs with dropout and each image's own "
                    "BatchNorm statistics.")
    add_generator_flags(parser)
    parser.add_argument("input", nargs="?", help="image file or folder to translate")
    parser.add_argument("-o", "--output", help="output image, folder (for a folder input) or "
                        "plot (for --dataset)")
    parser.add_argument("--dataset", help="npz dataset or folder of pair images: plot Source / "
                        "Generated / Expected for one of its pairs")
    parser.add_argument("--index", type=int, help="which pair of --dataset (default: random)")
    parser.add_argument("--full-size", action="store_true",
                        help="translate each image at its own resolution instead of resizing it "
                             "to the model's: it is padded (by reflection) to a multiple of the "
                             "generator's stride (its size: 256 for a 256x256 model), "
                             "translated, and cropped back")
    parser.add_argument("--tile", type=int, metavar="N",
                        help="translate at full size (implies --full-size) in overlapping N x N "
                             "tiles, blended without seams, for images too large to translate "
                             "at once; N must be a multiple of the generator's stride. Each tile "
                             "gets its own BatchNorm statistics in the paper's modes")
    add_overwrite_flag(parser, "output files")
    add_mode_flags(parser)
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
