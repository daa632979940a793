"""The .pth reader: the reference networks in both of torch's formats, and files it must refuse.

Malicious and damaged files are made here, with pickle and zipfile (torch is not a dependency).
"""
import collections
import os
import pickle
import shlex
import struct
import zipfile

import numpy as np
import pytest

from pix2pix.errors import Pix2PixError
from pix2pix.authors.pth import MAGIC_NUMBER, PROTOCOL_VERSION, read_state_dict

REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "reference")
NETWORKS = ["unet_32_ngf8", "unet_256_ngf4", "patchgan70_64_ndf8"]
UNET_32 = os.path.join(REFERENCE, "unet_32_ngf8.pth")
UNET_32_LEGACY = os.path.join(REFERENCE, "unet_32_ngf8_legacy.pth")


def rewrite_zip(dst, replace=(), drop=(), src=UNET_32):
    """A copy of the zip `src` with some entries (named without the `<name>/` prefix) replaced
    by new bytes or left out."""
    replace = dict(replace)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            name = info.filename.split("/", 1)[1]
            if name not in drop:
                zout.writestr(info.filename, replace.get(name, zin.read(info)))
    return dst


def legacy_stream(state_pickle, storage_keys=()):
    """Torch's legacy layout around a given state-dict pickle, with no storage data."""
    return b"".join([pickle.dumps(MAGIC_NUMBER, 2), pickle.dumps(PROTOCOL_VERSION, 2),
                     pickle.dumps({"protocol_version": PROTOCOL_VERSION, "little_endian": True}, 2),
                     state_pickle, pickle.dumps(list(storage_keys), 2)])


def assert_refused(path, *words):
    with pytest.raises(Pix2PixError) as e:
        read_state_dict(path)
    message = str(e.value)
    assert str(path) in message and "\n" not in message, message
    for word in words:
        assert word in message, (word, message)
    return message


@pytest.mark.parametrize("name", NETWORKS)
def test_both_formats_give_the_same_state_dict(name):
    new = read_state_dict(os.path.join(REFERENCE, f"{name}.pth"))
    old = read_state_dict(os.path.join(REFERENCE, f"{name}_legacy.pth"))
    assert list(new) == list(old) and len(new) > 20
    for key in new:
        assert new[key].dtype == old[key].dtype and new[key].shape == old[key].shape, key
        assert new[key].tobytes() == old[key].tobytes(), key
        assert new[key].flags.c_contiguous and new[key].flags.writeable, key
    weights = [a for k, a in new.items() if k.endswith(".weight") and a.ndim == 4]
    assert all(np.isfinite(a).all() and a.std() > 0 for a in weights)  # real weights, not zeros


def test_unet_32_layout_is_the_authors():
    sd = read_state_dict(UNET_32)
    assert next(iter(sd)) == "model.model.0.weight" and list(sd)[-1] == "model.model.3.bias"
    assert sd["model.model.0.weight"].shape == (8, 3, 4, 4)  # conv: [out, in, kh, kw]
    assert "model.model.0.bias" not in sd  # followed by BatchNorm... or nothing: no bias
    assert sd["model.model.3.weight"].shape == (16, 3, 4, 4)  # transposed: [in, out, kh, kw]
    assert sd["model.model.3.bias"].shape == (3,)  # only the outermost one has a bias
    bn = "model.model.1.model.2."
    for part in ["weight", "bias", "running_mean", "running_var"]:
        assert sd[bn + part].dtype == np.float32 and sd[bn + part].shape == (16,)
    assert (sd[bn + "running_var"] > 0).all()
    assert sd[bn + "num_batches_tracked"].dtype == np.int64
    assert sd[bn + "num_batches_tracked"].shape == ()
    assert sum(k.endswith("num_batches_tracked") for k in sd) == 7


def test_patchgan_layout_is_the_authors():
    sd = read_state_dict(os.path.join(REFERENCE, "patchgan70_64_ndf8_legacy.pth"))
    assert sd["model.0.weight"].shape == (8, 6, 4, 4) and sd["model.0.bias"].shape == (8,)
    assert sd["model.11.weight"].shape == (1, 64, 4, 4) and sd["model.11.bias"].shape == (1,)
    assert "model.2.bias" not in sd and sd["model.3.running_mean"].shape == (16,)


def test_big_endian_zip_is_read_the_same(tmp_path):
    """The zip records the saving machine's byte order; the storages follow it."""
    with zipfile.ZipFile(UNET_32) as z:
        # num_batches_tracked (int64, one element) is the only 8-byte storage; the rest are float32
        swapped = {i.filename.split("/", 1)[1]: np.frombuffer(
            z.read(i), "<i8" if i.file_size == 8 else "<f4").byteswap().tobytes()
            for i in z.infolist() if "/data/" in i.filename}
    path = rewrite_zip(tmp_path / "big.pth", {**swapped, "byteorder": b"big"})
    little, big = read_state_dict(UNET_32), read_state_dict(path)
    assert all(np.array_equal(little[k], big[k]) and big[k].dtype.isnative for k in little)


def torch_pickle(tensors):
    """The pickle that torch writes for a state dict, opcode by opcode: `tensors` maps a name to
    (storage class, storage key, storage numel, offset, shape, stride)."""
    def text(s):
        return b"X" + struct.pack("<I", len(s.encode())) + s.encode()

    def ints(values):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in values) + b"t"
    out = b"\x80\x02ccollections\nOrderedDict\n)R("
    for name, (kind, key, numel, offset, shape, stride) in tensors.items():
        storage = b"((" + text("storage") + f"ctorch\n{kind}\n".encode() + text(key) + \
            text("cpu") + b"J" + struct.pack("<i", numel) + b"tQ"
        out += text(name) + b"ctorch._utils\n_rebuild_tensor_v2\n" + storage + b"J" + \
            struct.pack("<i", offset) + ints(shape) + ints(stride) + \
            b"\x89ccollections\nOrderedDict\n)RtR"
    return out + b"u."


def test_views_dtypes_and_bfloat16_are_read_as_torch_would(tmp_path):
    floats = np.float32([1.5, -2.0, 3.140625, 0.0])  # exact in bfloat16
    storages = {"0": np.arange(60, dtype="<f8").tobytes(), "1": np.int32([7, 9]).tobytes(),
                "2": (floats.view(np.uint32) >> 16).astype("<u2").tobytes(),
                "3": bytes([0, 1, 2]), "4": np.int64([-3, 2 ** 40]).tobytes()}
    pkl = torch_pickle({
        "t": ("DoubleStorage", "0", 60, 5, (3, 4), (1, 3)),  # a transposed view, offset 5
        "scalar": ("IntStorage", "1", 2, 1, (), ()),
        "bf16": ("BFloat16Storage", "2", 4, 0, (2, 2), (2, 1)),
        "bool": ("BoolStorage", "3", 3, 0, (3,), (1,)),
        "long": ("LongStorage", "4", 2, 0, (2,), (1,)),
        "empty": ("DoubleStorage", "0", 60, 0, (0, 3), (3, 1)),
    })
    with zipfile.ZipFile(tmp_path / "views.pth", "w") as z:  # no byteorder: little-endian
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")  # torch.load needs it; this reader does not
        for key, data in storages.items():
            z.writestr(f"archive/data/{key}", data)
    sd = read_state_dict(tmp_path / "views.pth")
    assert list(sd) == ["t", "scalar", "bf16", "bool", "long", "empty"]
    expected = np.array([[5 + i + 3 * j for j in range(4)] for i in range(3)], dtype=np.float64)
    assert sd["t"].dtype == np.float64 and np.array_equal(sd["t"], expected)
    assert sd["t"].flags.c_contiguous
    assert sd["scalar"].shape == () and sd["scalar"].dtype == np.int32 and sd["scalar"] == 9
    assert sd["bf16"].dtype == np.float32 and np.array_equal(sd["bf16"], floats.reshape(2, 2))
    assert sd["bool"].dtype == bool and sd["bool"].tolist() == [False, True, True]
    assert sd["long"].dtype == np.int64 and sd["long"].tolist() == [-3, 2 ** 40]
    assert sd["empty"].shape == (0, 3)


class RunsCommand:
    """Unpickling this runs `function(argument)`, as a malicious .pth would."""
    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


@pytest.mark.parametrize("attack", ["system", "exec"])
@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_a_pickle_that_runs_code_is_refused(tmp_path, layout, attack):
    marker = tmp_path / "MARKER"
    payload = pickle.dumps(collections.OrderedDict([("model.0.weight", RunsCommand(
        os.system, f"touch {shlex.quote(str(marker))}") if attack == "system" else RunsCommand(
        exec, f"open({str(marker)!r}, 'w').close()"))]), 2)
    pickle.loads(payload)  # the payload is live: plain pickle runs it
    assert marker.exists()
    marker.unlink()
    path = tmp_path / f"evil_{layout}.pth"
    if layout == "zip":
        rewrite_zip(path, {"data.pkl": payload})
    else:
        path.write_bytes(legacy_stream(payload))
    assert_refused(path, "refused", f".{attack} ")  # posix.system, __builtin__.exec (protocol 2)
    assert not marker.exists()


def test_storage_loader_from_bytes_is_refused(tmp_path):
    # torch.storage._load_from_bytes calls torch.load on bytes inside the pickle: never allowed.
    payload = b"\x80\x02ctorch.storage\n_load_from_bytes\nq\x00C\x00\x85R."
    assert_refused(rewrite_zip(tmp_path / "nested.pth", {"data.pkl": payload}),
                   "torch.storage._load_from_bytes")


def test_truncated_files_are_refused(tmp_path):
    for source, cut in [(UNET_32, 0.5), (UNET_32_LEGACY, 0.5), (UNET_32_LEGACY, 0.002)]:
        data = open(source, "rb").read()
        path = tmp_path / f"cut_{cut}_{os.path.basename(source)}"
        path.write_bytes(data[:int(len(data) * cut)])
        assert_refused(path)
    assert "truncated" in assert_refused(tmp_path / "cut_0.5_unet_32_ngf8_legacy.pth")
    assert "zip" in assert_refused(tmp_path / "cut_0.5_unet_32_ngf8.pth")


def test_files_that_are_not_pth_are_refused(tmp_path):
    (tmp_path / "random.pth").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp_path / "empty.pth").write_bytes(b"")
    (tmp_path / "other.zip").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    (tmp_path / "list.pth").write_bytes(legacy_stream(pickle.dumps([1, 2], 2)))
    (tmp_path / "ints.pth").write_bytes(legacy_stream(pickle.dumps({"a": 1}, 2)))
    assert_refused(tmp_path / "random.pth")
    assert_refused(tmp_path / "empty.pth", "empty")
    assert_refused(tmp_path / "missing.pth", "no such file")
    assert_refused(tmp_path, "folder")
    assert_refused(tmp_path / "other.zip", "data.pkl")
    assert_refused(tmp_path / "list.pth", "list")
    assert_refused(tmp_path / "ints.pth", "'a'", "not a tensor")


def test_a_pickle_asking_for_a_huge_memo_is_refused(tmp_path):
    # EMPTY_DICT, then LONG_BINPUT at index 2**31 - 1: CPython's unpickler would allocate 16 GiB.
    bomb = b"\x80\x02}r" + struct.pack("<I", 2 ** 31 - 1) + b"."
    assert_refused(rewrite_zip(tmp_path / "memo.pth", {"data.pkl": bomb}), "memo index")


def test_inconsistent_storages_are_refused(tmp_path):
    assert_refused(rewrite_zip(tmp_path / "missing.pth", drop=["data/3"]), "data/3", "missing")
    assert_refused(rewrite_zip(tmp_path / "short.pth", {"data/0": b"\0" * 100}), "data/0")
    # The first tensor's shape (8, 3, 4, 4) made (9, 3, 4, 4): past the end of its 384 floats.
    with zipfile.ZipFile(UNET_32) as z:
        pkl = z.read("unet_32_ngf8/data.pkl")
    shape = b"K\x08K\x03K\x04K\x04t"
    assert shape in pkl
    overrun = pkl.replace(shape, b"K\x09K\x03K\x04K\x04t", 1)
    assert_refused(rewrite_zip(tmp_path / "overrun.pth", {"data.pkl": overrun}),
                   "model.model.0.weight", "past the end")
