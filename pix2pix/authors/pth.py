"""Read a PyTorch state dict (a .pth file, `torch.save(net.state_dict())`) into NumPy, no torch.

A .pth file is a pickle of a dict of tensors, each tensor a view (offset, shape, strides) into a raw
storage of bytes. torch >= 1.6 writes a zip: `<name>/data.pkl` is the pickle, `<name>/data/<key>`
the storages and `<name>/byteorder` their byte order. Older torch writes one stream of pickles: a
magic number, a protocol version, a sys-info dict, the state dict, the list of storage keys, then
for each storage an int64 element count and its little-endian bytes.

Unpickling runs whatever callables the pickle names, so a .pth from the internet could run any
command. The unpickler here resolves only the few names a state dict needs, each to a harmless
stand-in defined below, and refuses everything else. bfloat16 tensors become float32 (NumPy has no
bfloat16; the conversion is exact).
"""
import collections
import io
import math
import os
import pickle
import pickletools
import struct
import zipfile

import numpy as np

from pix2pix.errors import Pix2PixError


MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # the legacy format's first pickle
PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {  # torch storage class -> NumPy dtype of its elements
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "BFloat16Storage": "u2",
    "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "u1",
}


class _StorageType:
    """Stands in for torch.FloatStorage etc.: not callable, it only names a dtype."""
    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(STORAGE_DTYPES[name])


Storage = collections.namedtuple("Storage", "key type numel")
Tensor = collections.namedtuple("Tensor", "storage offset shape stride")


def _clean(text):
    """Text from the file, made safe for a one-line message."""
    return " ".join(str(text).split())[:80]


def _rebuild_tensor(storage, offset, shape, stride, *_):  # _v2 adds requires_grad, hooks, metadata
    return Tensor(storage, offset, shape, stride)


SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): lambda data, *_: data,  # a Parameter is its tensor
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file, encoding="utf-8")  # as torch.load: Python 2 strings are UTF-8
        self.file, self.path, self.storages = file, path, {}

    def load(self):
        # CPython's unpickler grows its memo to the largest index that a PUT names, so one wrong
        # byte can make it allocate gigabytes. Pickle numbers memo entries 0, 1, 2...: refuse a
        # PUT beyond the opcodes seen so far, before unpickling anything.
        start = self.file.tell()
        for i, (opcode, index, _) in enumerate(pickletools.genops(self.file)):
            if opcode.name.endswith("PUT") and index > i:
                raise Pix2PixError(f"{self.path}: damaged, its pickle has a memo index of {index}")
        self.file.seek(start)
        return super().load()

    def find_class(self, module, name):  # every global the pickle names comes through here
        if (module, name) not in SAFE_GLOBALS:
            raise Pix2PixError(f"{self.path}: refused, its pickle asks for {_clean(module)}."
                               f"{_clean(name)} (a .pth file may only hold tensors)")
        return SAFE_GLOBALS[module, name]

    def persistent_load(self, pid):  # ('storage', type, key, location, numel[, view]) -> Storage
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and type(pid[4]) is int and pid[4] >= 0 and pid[5:] in ((), (None,))):
            raise Pix2PixError(f"{self.path}: its pickle refers to {_clean(pid)}, not a storage")
        storage = Storage(pid[2], pid[1], pid[4])
        if self.storages.setdefault(storage.key, storage) != storage:
            raise Pix2PixError(f"{self.path}: storage {_clean(storage.key)} is declared twice")
        return storage


def _load_zip(path, f):
    try:
        archive = zipfile.ZipFile(f)
    except zipfile.BadZipFile as e:
        raise Pix2PixError(f"{path}: a damaged or truncated zip ({e})") from e
    pickles = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise Pix2PixError(f"{path}: a zip but not a PyTorch file (no <name>/data.pkl in it)")
    prefix, names = pickles[0][:-len("data.pkl")], set(archive.namelist())
    unpickler = _Unpickler(io.BytesIO(archive.read(pickles[0])), path)
    state = unpickler.load()
    big = prefix + "byteorder" in names and archive.read(prefix + "byteorder") == b"big"
    data = {}
    for key, storage in unpickler.storages.items():
        name = f"{prefix}data/{key}"
        if name not in names:
            raise Pix2PixError(f"{path}: storage {_clean(name)} is missing from the zip")
        # Check the size before reading, so that a lying (or zip-bomb) entry is never inflated.
        size = archive.getinfo(name).file_size
        if size != storage.numel * storage.type.dtype.itemsize:
            raise Pix2PixError(f"{path}: storage {_clean(name)} has {size} bytes, "
                               f"not the {storage.numel} elements its pickle says")
        data[key] = archive.read(name)
    return state, data, "big" if big else "little"


def _load_legacy(path, f):
    if _Unpickler(f, path).load() != MAGIC_NUMBER:
        raise Pix2PixError(f"{path}: not a PyTorch .pth file (not a zip, nor torch's legacy "
                           f"format)")
    if (version := _Unpickler(f, path).load()) != PROTOCOL_VERSION:
        raise Pix2PixError(f"{path}: legacy PyTorch format version {_clean(version)}, not 1001")
    _Unpickler(f, path).load()  # sys info: the storages are little-endian whatever it says
    unpickler = _Unpickler(f, path)
    state = unpickler.load()
    keys = _Unpickler(f, path).load()
    if not isinstance(keys, list) or sorted(keys) != sorted(unpickler.storages):
        raise Pix2PixError(f"{path}: its list of storages does not match the tensors' storages")
    data = {}
    for key in keys:  # each storage: int64 element count, then its bytes
        storage = unpickler.storages[key]
        header = f.read(8)
        if len(header) == 8 and struct.unpack("<q", header)[0] != storage.numel:
            raise Pix2PixError(f"{path}: storage {_clean(key)} has a size that its pickle does not "
                               "declare")
        nbytes = storage.numel * storage.type.dtype.itemsize
        data[key] = f.read(nbytes)
        if len(header) < 8 or len(data[key]) < nbytes:
            raise Pix2PixError(f"{path}: truncated, storage {_clean(key)} is cut short")
    return state, data, "little"


def _to_array(path, name, tensor, data, byteorder):
    shape, stride, offset = tensor.shape, tensor.stride, tensor.offset
    if not (isinstance(shape, tuple) and isinstance(stride, tuple) and len(shape) == len(stride)
            and all(type(n) is int and n >= 0 for n in (offset, *shape, *stride))):
        raise Pix2PixError(f"{path}: tensor {_clean(name)} has a malformed shape, stride or offset")
    dtype = tensor.storage.type.dtype.newbyteorder("<" if byteorder == "little" else ">")
    flat = np.frombuffer(data[tensor.storage.key], dtype=dtype)
    # The last element the view reaches must lie inside the storage (an empty view reaches none).
    # A view could also repeat elements (stride 0) into a huge copy; a state dict never does.
    if 0 not in shape and (offset + sum((n - 1) * s for n, s in zip(shape, stride)) >= flat.size
                           or math.prod(shape) > flat.size):
        raise Pix2PixError(f"{path}: tensor {_clean(name)} {shape} reaches past the end of its "
                           "storage")
    view = np.lib.stride_tricks.as_strided(flat[min(offset, flat.size):], shape,
                                           [s * dtype.itemsize for s in stride], writeable=False)
    array = np.array(view, dtype=dtype.newbyteorder("="), order="C")  # a native, C-ordered copy
    if tensor.storage.type.name == "BFloat16Storage":  # bfloat16 is float32's top 16 bits
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array != 0 if tensor.storage.type.name == "BoolStorage" else array


def read_state_dict(path):
    """{name: NumPy array} from a PyTorch .pth state dict, in the file's order; never runs code."""
    if os.path.isdir(path):
        raise Pix2PixError(f"{path}: a folder, not a .pth file")
    if not os.path.isfile(path):
        raise Pix2PixError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            if not (magic := f.read(4)):
                raise Pix2PixError(f"{path}: empty file, not a PyTorch .pth file")
            f.seek(0)
            load = _load_zip if magic == b"PK\x03\x04" else _load_legacy
            state, data, byteorder = load(path, f)
        if not isinstance(state, dict):
            raise Pix2PixError(f"{path}: holds a {type(state).__name__}, not a state dict of "
                               f"tensors")
        arrays = {}
        for name, tensor in state.items():
            if not (isinstance(name, str) and isinstance(tensor, Tensor)
                    and isinstance(tensor.storage, Storage)):
                raise Pix2PixError(f"{path}: entry {_clean(repr(name))} is not a tensor "
                                   "(a state dict maps names to tensors)")
            arrays[name] = _to_array(path, name, tensor, data, byteorder)
        return arrays
    except Pix2PixError:
        raise
    except OSError as e:
        raise Pix2PixError(f"{path}: cannot read it ({e.strerror or e})") from e
    except Exception as e:  # a damaged pickle or zip can fail in almost any way: EOF, Key, Value...
        raise Pix2PixError(f"{path}: damaged or not a PyTorch .pth file "
                           f"({type(e).__name__}: {_clean(e)})") from e
