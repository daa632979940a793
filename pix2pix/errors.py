"""The project's one exception: a failure the user can act on."""


class Pix2PixError(Exception):
    """Any failure the user can act on: a missing, damaged or foreign file, a bad argument, a
    download cut off, a full disk, a training run whose losses diverged.

    Its message says what went wrong and names the file or flag it concerns; the scripts show it
    as one line, without a traceback (pix2pix.cli.run). Anything else that escapes is a bug.
    """
