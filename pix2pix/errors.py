"""The project's one exception, a failure the user can act on, and the one line that tells any
failure."""

MAX_MESSAGE = 400  # characters; library errors (Keras's above all) can run to many lines


class Pix2PixError(Exception):
    """Any failure the user can act on: a missing, damaged or foreign file, a bad argument, a
    download cut off, a full disk, a training run whose losses diverged.

    Its message says what went wrong and names the file or flag it concerns; the scripts show it
    as one line, without a traceback (pix2pix.cli.run). Anything else that escapes is a bug.
    """


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
