"""What every script shares: its common flags, and one clear line and a non-zero exit for a
failure, never a traceback.

Exit status 0 on success, 1 for a failure (bad file, unwritable folder, ...), 2 for a usage error
(argparse's own convention) and 130 when interrupted by Ctrl-C. `--debug` shows the traceback.
"""
import os
import sys
import traceback

from pix2pix.authors.published import PRETRAINED, pretrained_path
from pix2pix.errors import Pix2PixError, describe
from pix2pix.inference.modes import MODES


def add_debug_flag(parser, more=""):
    parser.add_argument("--debug", action="store_true",
                        help=f"show the full traceback when something fails{more}")


def add_overwrite_flag(parser, what="the output file"):
    parser.add_argument("--overwrite", action="store_true",
                        help=f"replace {what} if it exists (by default an existing one is kept "
                             f"and nothing is done)")


def add_mode_flags(parser):
    """--mode, with --deterministic and --eval-mode as its two short forms."""
    parser.add_argument("--mode", choices=MODES, default="paper",
                        help="how the generator runs: " + "; ".join(
                            f"{mode}: {what}" for mode, what in MODES.items()))
    parser.add_argument("--deterministic", dest="mode", action="store_const",
                        const="deterministic", help="same as --mode deterministic")
    parser.add_argument("--eval-mode", dest="mode", action="store_const", const="eval",
                        help="same as --mode eval")


def add_generator_flags(parser):
    """The trained generator a script uses: a model file, or --pretrained NAME (and --base-url)."""
    parser.add_argument("model", nargs="?", help="generator file, H5 or .keras "
                        "(models/model_<step>.h5); left out with --pretrained")
    parser.add_argument("--pretrained", choices=sorted(PRETRAINED), metavar="NAME",
                        help="use one of the authors' trained generators instead of a model file: "
                             + ", ".join(f"{name} ({model.translates})"
                                         for name, model in PRETRAINED.items())
                             + "; downloaded and converted into models/pretrained/NAME.h5 the "
                               "first time")
    parser.add_argument("--base-url",
                        help="the folder that holds the .pth file of --pretrained NAME (default: "
                             "the authors' folder of pix2pix or of CycleGAN models)")


def name_generator(args, after=()):
    """Check which generator the arguments name, before any work: `args.model` becomes its file
    (models/pretrained/NAME.h5 for --pretrained). The model file is the first positional
    argument; with --pretrained it is left out, so the positionals named in `after` move up."""
    if args.pretrained:
        given = [args.model] + [getattr(args, name) for name in after]
        if given[-1] is not None:
            raise Pix2PixError("give a model file or --pretrained NAME, not both")
        for name, value in zip(after, given):
            setattr(args, name, value)
        args.model = pretrained_path(args.pretrained)
    elif args.model is None:
        raise Pix2PixError("give a model file (models/model_<step>.h5) or --pretrained NAME")


def load_named_generator(args):
    """The generator named by `name_generator`, loaded with its configuration (for --pretrained,
    downloaded and converted the first time), on TensorFlow's devices, started quietly."""
    # Imported here: the data-only scripts import this module, and these start TensorFlow.
    from pix2pix.authors.pretrained import pretrained_generator
    from pix2pix.backend import start_devices
    from pix2pix.inference.generator import load_generator
    print(f"running on {start_devices()}")
    if args.pretrained:
        pretrained_generator(args.pretrained, os.path.dirname(os.path.dirname(args.model)),
                             args.base_url)
    return load_generator(args.model)


def run(main, parser):
    """Parse the arguments and call `main(args)`; failures become one line and an exit code."""
    args = parser.parse_args()
    try:
        main(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001  the one place where anything becomes one line
        if args.debug:
            traceback.print_exc()
        print(f"{parser.prog}: error: {describe(e)}", file=sys.stderr)
        sys.exit(1)
