"""Writing files so that a crash never leaves a half-written one that looks complete."""
import contextlib
import errno
import glob
import os
import shutil
import tempfile

from pix2pix.errors import Pix2PixError


# The system's ways of refusing a write (not, say, a network error while downloading into it).
WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM,
                errno.EIO, errno.ENOTDIR, errno.EISDIR, errno.EEXIST)


def check_output(path, overwrite=False, extensions=None):
    """Fail early, before any work is done, if `path` cannot or should not be written.

    An existing file is kept unless `overwrite`; a folder in the way, a missing extension
    among `extensions`, or a parent that is a file or not writable are errors naming `path`.
    """
    if os.path.isdir(path):
        raise Pix2PixError(f"{path}: is a folder; give a file name")
    if extensions and not path.lower().endswith(tuple(extensions)):
        raise Pix2PixError(f"{path}: unsupported file type; use one of {', '.join(extensions)}")
    if os.path.lexists(path) and not overwrite:
        raise Pix2PixError(f"{path}: already exists; add --overwrite to replace it")
    check_folder(os.path.dirname(os.path.abspath(path)), path)


def check_folder(folder, path=None):
    """Fail unless `folder` is, or can be made, a writable folder; the error names `path`."""
    path = path or folder
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):  # the nearest part of the path that exists
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise Pix2PixError(f"{path}: cannot write there: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise Pix2PixError(f"{path}: cannot write there: no permission to write in {existing}")


def give_usual_permissions(path, mode):
    """mkstemp and mkdtemp make their results private: give `path` the permissions a plain
    open() or mkdir() would, `mode` less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def raise_write_error(path, error):
    """A failure of the system (disk full, no permission) as a Pix2PixError naming `path`;
    any other OSError as it is."""
    if error.errno not in WRITE_ERRORS:
        raise error
    raise Pix2PixError(f"{path}: could not be written ({error.strerror or error})") from error


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; once the block succeeds, move it onto `path`.

    The temporary file lives in the same folder (so the final rename is atomic) and keeps the
    extension (libraries choose a format from it). It is flushed to disk before the rename, and
    removed if the block fails, so `path` is either the old file or the complete new one. A
    failure of the system (disk full, no permission) becomes a Pix2PixError naming `path`.
    """
    folder, name = os.path.split(os.path.abspath(path))
    stem, ext = os.path.splitext(name)
    tmp = None
    try:
        check_folder(folder, path)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=f".tmp{ext}")
        os.close(fd)
        give_usual_permissions(tmp, 0o666)
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise_write_error(path, e)
    finally:
        if tmp and os.path.exists(tmp):
            os.remove(tmp)


def remove_leftovers(folder):
    """Delete the temporary files of `atomic_path` saves into `folder` that a crash cut short
    (it removes its own in any other case)."""
    for leftover in glob.glob(os.path.join(glob.escape(folder), ".*.tmp.*")):
        os.remove(leftover)


@contextlib.contextmanager
def atomic_folder(path):
    """`atomic_path` for a folder: yield an empty temporary folder beside `path`, and once the
    block succeeds, move it onto `path` (an old folder there is moved aside first, then
    deleted). A failed block leaves `path` as it was and no temporary folder behind."""
    parent, name = os.path.split(os.path.abspath(path))
    tmp = old = None
    try:
        check_folder(parent, path)
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".tmp")
        give_usual_permissions(tmp, 0o777)
        yield tmp
        for folder, _, files in os.walk(tmp):  # on disk before the rename makes it visible
            for file in files:
                with open(os.path.join(folder, file), "rb") as f:
                    os.fsync(f.fileno())
        if os.path.lexists(path):
            # Two renames, not one: a folder cannot be renamed over a non-empty one.
            old = tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".old")
            os.replace(path, old)
            try:
                os.replace(tmp, path)
            except OSError:
                os.replace(old, path)  # put the old one back
                old = None
                raise
        else:
            os.replace(tmp, path)
    except OSError as e:
        raise_write_error(path, e)
    finally:
        for folder in (tmp, old):
            if folder and os.path.exists(folder):
                shutil.rmtree(folder, ignore_errors=True)
