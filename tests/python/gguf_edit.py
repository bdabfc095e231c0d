"""Rewrites a GGUF with edits, for hostile-model tests: keys dropped or set, tensors dropped or given
another shape, the file truncated. Tensor data is copied as stored (f32/f16 models)."""
import os
import shutil

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter

_ARCH_KEY = "general.architecture"


def _value(field):
    """(value, type, sub_type) of a reader field, in GGUFWriter.add_key_value's terms."""
    vtype = field.types[0]
    if vtype == GGUFValueType.ARRAY:
        return field.contents(), vtype, field.types[1]
    return field.contents(), vtype, None


def keys(path):
    r = GGUFReader(path)
    return {name: _value(f) for name, f in r.fields.items() if not name.startswith("GGUF.")}


def tensors(path):
    """{name: (shape as ggml's ne, dtype name)}."""
    return {t.name: ([int(n) for n in t.shape], t.tensor_type.name) for t in GGUFReader(path).tensors}


def rewrite(src, dst, drop_keys=(), set_keys=None, drop_tensors=(), shapes=None):
    """set_keys {key: (value, GGUFValueType[, sub_type])}; shapes {tensor: ne} (data is cut or
    zero-extended to fit, so only the declared shape is wrong)."""
    set_keys = set_keys or {}
    shapes = shapes or {}
    r = GGUFReader(src)
    arch = r.fields[_ARCH_KEY].contents() if _ARCH_KEY in r.fields else "codec"
    w = GGUFWriter(dst, arch)
    for name, f in r.fields.items():
        if name.startswith("GGUF.") or name == _ARCH_KEY or name in drop_keys or name in set_keys:
            continue
        w.add_key_value(name, *_value(f))
    for name, v in set_keys.items():
        w.add_key_value(name, *v)
    for t in r.tensors:
        if t.name in drop_tensors:
            continue
        data = np.asarray(t.data)
        if t.name in shapes:
            ne = list(shapes[t.name])
            flat = np.zeros(int(np.prod(ne)), dtype=data.dtype)
            n = min(flat.size, data.size)
            flat[:n] = data.reshape(-1)[:n]
            data = flat.reshape(list(reversed(ne)))
        w.add_tensor(t.name, data, raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return dst


def data_end(path):
    """Offset one past the last tensor byte (the file may end in alignment padding after it)."""
    return max(int(t.data_offset) + int(t.n_bytes) for t in GGUFReader(path).tensors)


def truncate(src, dst, n_bytes):
    with open(src, "rb") as f, open(dst, "wb") as g:
        shutil.copyfileobj(_Limited(f, n_bytes), g)
    assert os.path.getsize(dst) == n_bytes
    return dst


class _Limited:
    def __init__(self, f, n):
        self.f, self.left = f, n

    def read(self, size=-1):
        size = self.left if size < 0 else min(size, self.left)
        b = self.f.read(size)
        self.left -= len(b)
        return b
