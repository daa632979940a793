"""What every script shares: one clear line and a non-zero exit for bad input, never a traceback.

Exit status 0 on success, 1 for a failure (bad file, unwritable folder, ...), 2 for a usage error
(argparse's own convention) and 130 when interrupted by Ctrl-C. `--debug` shows the traceback.
"""
import sys
import traceback




class InputError(Exception):
    """A problem with what the user gave us; its message names the file and what is wrong."""


def add_debug_flag(parser):
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")


def run(main, parser):
    """Parse the arguments and call `main(args)`; failures become one line and an exit code."""
    args = parser.parse_args()
    try:
        main(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    except (InputError, OSError) as e:
        if args.debug:
            traceback.print_exc()
        print(f"{parser.prog}: error: {describe(e)}", file=sys.stderr)
        sys.exit(1)


def describe(e):
    if isinstance(e, OSError) and e.filename:
        return f"{e.filename}: {e.strerror or e}"
    return str(e)
