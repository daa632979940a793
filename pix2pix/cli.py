"""What every script shares: its common flags, and one clear line and a non-zero exit for a
failure, never a traceback.

Exit status 0 on success, 1 for a failure (bad file, unwritable folder, ...), 2 for a usage error
(argparse's own convention) and 130 when interrupted by Ctrl-C. `--debug` shows the traceback.
"""
import sys
import traceback

from pix2pix.errors import Pix2PixError
from pix2pix.inference import MODES
from pix2pix.pretrained import PRETRAINED, PRETRAINED_URL

MAX_MESSAGE = 400  # characters; library errors (Keras's above all) can run to many lines


def add_debug_flag(parser):
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")


def add_overwrite_flag(parser, what="the output file"):
    parser.add_argument("--overwrite", action="store_true",
                        help=f"replace {what} if it exists (by default an existing one is kept "
                             f"and nothing is done)")


def add_mode_flags(parser):
    """--mode, with --deterministic and --eval-mode as its two short forms."""
    parser.add_argument("--mode", choices=MODES, default="paper",
                        help="how the generator runs: paper (default): dropout and each image's "
                             "BatchNorm statistics; deterministic: the same without dropout, so "
                             "repeatable; eval: BatchNorm's moving averages, no dropout")
    parser.add_argument("--deterministic", dest="mode", action="store_const",
                        const="deterministic", help="same as --mode deterministic")
    parser.add_argument("--eval-mode", dest="mode", action="store_const", const="eval",
                        help="same as --mode eval")


def add_pretrained_flags(parser):
    """--pretrained NAME (in place of a model file) and --base-url, for the scripts."""
    parser.add_argument("--pretrained", choices=sorted(PRETRAINED), metavar="NAME",
                        help="use one of the authors' trained generators instead of a model file: "
                             + ", ".join(f"{name} ({PRETRAINED[name][2]})" for name in PRETRAINED)
                             + "; downloaded and converted into models/pretrained/NAME.h5 the "
                               "first time")
    parser.add_argument("--base-url", default=PRETRAINED_URL,
                        help="where the authors' .pth files are (default: their server)")


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


def describe(e):
    """One line for any error: ours as they are, the OS's with their file, others with a type."""
    if isinstance(e, Pix2PixError):
        message = str(e)
    elif isinstance(e, OSError) and e.filename:
        message = f"{e.filename}: {e.strerror or e}"
    elif isinstance(e, OSError):
        message = e.strerror or str(e)
    else:  # a bug, or a library failing in a way we did not foresee
        message = f"unexpected {type(e).__name__}: {e} (--debug shows where)"
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 3] + "..."
    return message
