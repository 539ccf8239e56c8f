#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: fuzz/corpus/NAME/seed-*.

Each target gets a handful of valid inputs and near-valid ones (one field
wrong, truncated, sizes that promise more than the file holds). Run it
again after changing a seed; it rewrites the seed-* files only, so inputs a
fuzzer found (saved under other names) stay.
"""
import json
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def put(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / ("seed-" + name)).write_bytes(data)


# --- safetensors ------------------------------------------------------------

ITEM = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def raw_safetensors(header, data=b"", length=None):
    """8-byte length, the header text padded to 8 bytes, the data."""
    text = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    text = text.encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + data


def safetensors(tensors, metadata=None):
    """A valid file: tensors = [(name, dtype, shape)], bytes 0, 1, 2, ..."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        n = ITEM[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + n]}
        data += bytes(i % 251 for i in range(n))
    return raw_safetensors(header, data)


TAPEGRAD_META = {"tapegrad": json.dumps({"app": "mnist_rnn", "config": {"hidden": 4, "lr": 0.01},
                                         "trainer": {"step": 3}, "version": 1})}
model = [("model.head.bias", "F32", [2]), ("model.head.weight", "F32", [2, 3]),
         ("optim.adam.t", "I64", [])]
put("safetensors", "valid-model", safetensors(model, TAPEGRAD_META))
put("safetensors", "valid-all-dtypes", safetensors([(d.lower(), d, [2, 1]) for d in ITEM]))
put("safetensors", "valid-empty-and-scalar",
    safetensors([("empty", "F64", [0, 5]), ("scalar", "F64", []), ("u8", "U8", [3])]))
put("safetensors", "valid-metadata-only", safetensors([], TAPEGRAD_META))
put("safetensors", "valid-no-tapegrad-metadata", safetensors(model[:1], {"format": "pt"}))
put("safetensors", "meta-not-json", safetensors(model[:1], {"tapegrad": "{\"app\": "}))
put("safetensors", "meta-array", safetensors(model[:1], {"tapegrad": "[1, 2]"}))
put("safetensors", "meta-not-string", raw_safetensors({"__metadata__": {"tapegrad": {"a": 1}}}))
good = safetensors(model, TAPEGRAD_META)
put("safetensors", "truncated-header", good[:40])
put("safetensors", "truncated-data", good[:-3])
put("safetensors", "trailing-bytes", good + b"\0\0\0\0")
put("safetensors", "short", b"\x10\0\0\0")
# Sizes that promise far more than the file holds: refused before allocating.
put("safetensors", "huge-header-length", raw_safetensors({}, length=1 << 60))
put("safetensors", "huge-header-length-max", raw_safetensors({}, length=(1 << 64) - 1))
put("safetensors", "huge-offsets",
    raw_safetensors({"w": {"dtype": "U8", "shape": [1 << 60], "data_offsets": [0, 1 << 60]}}, b"\0" * 8))
put("safetensors", "huge-shape-overflow",
    raw_safetensors({"w": {"dtype": "F64", "shape": [1 << 31, 1 << 31, 1 << 31],
                           "data_offsets": [0, 8]}}, b"\0" * 8))
put("safetensors", "huge-shape-times-zero",
    raw_safetensors({"w": {"dtype": "F64", "shape": [1 << 62, 1 << 62, 0], "data_offsets": [0, 0]}}))
put("safetensors", "offsets-max-u64",
    raw_safetensors({"w": {"dtype": "U8", "shape": [8], "data_offsets": [(1 << 64) - 8, (1 << 64) - 1]}},
                    b"\0" * 8))
two = lambda a, b: {"a": {"dtype": "U8", "shape": [a[1] - a[0]], "data_offsets": a},
                    "b": {"dtype": "U8", "shape": [b[1] - b[0]], "data_offsets": b}}
put("safetensors", "overlap", raw_safetensors(two([0, 6], [4, 8]), b"\1" * 8))
put("safetensors", "hole", raw_safetensors(two([0, 2], [4, 8]), b"\1" * 8))
put("safetensors", "reversed-offsets",
    raw_safetensors({"w": {"dtype": "U8", "shape": [0], "data_offsets": [8, 0]}}, b"\0" * 8))
put("safetensors", "size-mismatch",
    raw_safetensors({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8))
put("safetensors", "dtype-f8",
    raw_safetensors({"w": {"dtype": "F8_E4M3", "shape": [8], "data_offsets": [0, 8]}}, b"\0" * 8))
put("safetensors", "bad-fields",
    raw_safetensors({"w": {"dtype": 4, "shape": [-1, 2.5, "x"], "data_offsets": [0]}}, b"\0" * 8))
put("safetensors", "header-array", raw_safetensors([1, 2, 3]))
put("safetensors", "header-bad-json", raw_safetensors('{"w": {"dtype": "U8", "shape": [1],'))
put("safetensors", "valid-empty-name",
    raw_safetensors({"": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0"))
put("safetensors", "reserved-name",
    raw_safetensors({"__metadata__": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0"))
put("safetensors", "duplicate-key",
    raw_safetensors('{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
                    '"w":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', b"\0" * 8))
# JSON nested deeper than 64 levels is refused before it is parsed (copying
# or printing it recursed once per level; 300,000 levels overflowed the
# stack). The header at 64 levels exactly, then at 100; the metadata at 100;
# brackets inside strings do not count.
nested = lambda n: "[" * n + "]" * n
put("safetensors", "nested-shape-64",
    raw_safetensors('{"w":{"dtype":"U8","shape":[' + nested(61) + '],"data_offsets":[0,1]}}', b"\0"))
put("safetensors", "nested-shape-100",
    raw_safetensors('{"w":{"dtype":"U8","shape":[' + nested(97) + '],"data_offsets":[0,1]}}', b"\0"))
put("safetensors", "nested-meta-100",
    safetensors(model[:1], {"tapegrad": '{"app":"x","config":' + nested(99) + "}"}))
put("safetensors", "valid-brackets-in-strings",
    safetensors(model[:1], {"tapegrad": json.dumps({"app": "[" * 100 + '\\"{' * 100, "config": {}}),
                            "[" * 100: "{" * 100}))

# --- IDX --------------------------------------------------------------------


def idx(dims, data=None, magic=None):
    n = 1
    for d in dims:
        n *= d
    if magic is None:
        magic = 0x800 | len(dims)
    if data is None:
        data = bytes(i % 10 for i in range(n))
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data


put("idx", "valid-images-3x4x5", idx([3, 4, 5]))
put("idx", "valid-images-2x28x28", idx([2, 28, 28]))
put("idx", "valid-labels-10", idx([10]))
put("idx", "valid-zero-images", idx([0, 28, 28]))
put("idx", "truncated-header", idx([3, 4, 5])[:9])
put("idx", "truncated-data", idx([3, 4, 5])[:-1])
put("idx", "trailing-byte", idx([10]) + b"\0")
put("idx", "wrong-magic-int", idx([3], magic=0x0C01, data=b"\0" * 12))
put("idx", "wrong-ndims", idx([2, 2], data=b"\0" * 4))
put("idx", "magic-only", struct.pack(">I", 0x803))
# Headers that promise far more than the file holds: refused before allocating.
put("idx", "huge-2pow31-images", idx([1 << 31, 28, 28], data=b"\0" * 64))
put("idx", "huge-max-dims", idx([0xFFFFFFFF] * 3, data=b"\0" * 64))
put("idx", "huge-labels", idx([0xFFFFFFFF], data=b"\0" * 16))

# --- IMDB reviews.json ------------------------------------------------------

reviews = [
    {"t": "A fine film.<br /><br />I don't regret it: 10/10!", "s": 1},
    {"t": "Boring. <BR />Two hours I won't get back.", "s": 0},
    {"t": "Caf\u00e9 scenes, caf\u00e9 music; the best film of 1999", "s": 1},
    {"t": "", "s": 0},
    {"t": "awful awful awful " * 6, "s": 0, "id": 5, "extra": {"nested": [1, {"a": None}]}},
]
put("imdb", "valid-five", json.dumps(reviews))
put("imdb", "valid-two-escapes", '[{"t":"caf\\u00e9 \\"quoted\\"\\n\\ud83d\\ude00 ok","s":1},{"s":0,"t":"it\'s bad"}]')
put("imdb", "one-review", json.dumps(reviews[:1]))
put("imdb", "empty-array", "[]")
put("imdb", "label-2", '[{"t":"x","s":1},{"t":"y","s":2}]')
put("imdb", "label-float", '[{"t":"x","s":1},{"t":"y","s":1.0}]')
put("imdb", "label-string", '[{"t":"x","s":"1"},{"t":"y","s":0}]')
put("imdb", "label-negative", '[{"t":"x","s":-1},{"t":"y","s":0}]')
put("imdb", "label-huge", '[{"t":"x","s":18446744073709551616},{"t":"y","s":0}]')
put("imdb", "missing-text", '[{"s":1},{"t":"y","s":0}]')
put("imdb", "missing-label", '[{"t":"x","s":1},{"t":"y"}]')
put("imdb", "text-array", '[{"t":["x"],"s":1},{"t":"y","s":0}]')
put("imdb", "record-array", '[["x",1],{"t":"y","s":0}]')
put("imdb", "top-object", '{"t":"x","s":1}')
put("imdb", "top-scalar", '42')
put("imdb", "truncated", json.dumps(reviews)[:70])
put("imdb", "bad-utf8", b'[{"t":"caf\xc3 \xff\xfe","s":1},{"t":"y","s":0}]')
put("imdb", "trailing-garbage", '[{"t":"x","s":1},{"t":"y","s":0}] x')
put("imdb", "deep-extra", '[{"t":"x","s":1,"e":' + "[" * 500 + "]" * 500 + '},{"t":"y","s":0}]')

# --- slot files (seq.in | seq.out | label) -----------------------------------


def slots(words, tags, labels):
    return "|".join([words, tags, labels])


put("slots", "valid-three",
    slots("i want to fly from Boston to Denver\nshow me flights to Taipei at 5:30\nwhat is fare code qx\n",
          "O O O O O B-fromloc.city_name O B-toloc.city_name\nO O O O B-toloc.city_name O B-depart_time.time\n"
          "O O B-fare_basis_code I-fare_basis_code O\n",
          "atis_flight\natis_flight\natis_abbreviation\n"))
put("slots", "valid-crlf-no-final-newline",
    slots("book a ticket\r\nto <pad> <UNK>", "O O O\r\nO B-city I-city", "book\r\nbook"))
put("slots", "line-counts-differ", slots("a b\nc d\n", "O O\n", "x\ny\n"))
put("slots", "tag-count-differs", slots("a b c\n", "O O\n", "x\n"))
put("slots", "bad-tag", slots("to Denver\n", "O X-city\n", "x\n"))
put("slots", "empty-type-tag", slots("to Denver\n", "O B-\n", "x\n"))
put("slots", "empty-line", slots("a\n\nb\n", "O\n\nO\n", "x\nx\nx\n"))
put("slots", "two-intents", slots("a\n", "O\n", "flight airfare\n"))
put("slots", "no-separators", "a b\nO O\nx\n")
put("slots", "tabs-and-controls", slots("a\tb\x0bc\n", "O\tO\x0cO\n", "x\n"))

# --- vocabularies and tag lists -----------------------------------------------

put("vocab", "slot-vocab-valid", "# tapegrad slot vocabulary v1\n<pad>\n<unk>\nto\nflights\nboston\n5:30\n")
put("vocab", "slot-vocab-upper", "# tapegrad slot vocabulary v1\n<pad>\n<unk>\nBoston\n")
put("vocab", "slot-vocab-duplicate", "# tapegrad slot vocabulary v1\n<pad>\n<unk>\nto\nto\n")
put("vocab", "slot-vocab-space", "# tapegrad slot vocabulary v1\n<pad>\n<unk>\nnew york\n")
put("vocab", "slot-vocab-no-unk", "# tapegrad slot vocabulary v1\n<pad>\nto\n")
put("vocab", "slot-vocab-crlf", "# tapegrad slot vocabulary v1\r\n<pad>\r\n<unk>\r\n")
put("vocab", "tags-valid", "# tapegrad slot tags v1\nO\nB-city\nI-city\nB-depart_time.time\n")
put("vocab", "tags-first-not-o", "# tapegrad slot tags v1\nB-city\nO\n")
put("vocab", "tags-bad", "# tapegrad slot tags v1\nO\nB-\nX-city\n")
put("vocab", "tags-duplicate", "# tapegrad slot tags v1\nO\nB-city\nB-city\n")
put("vocab", "imdb-valid", "<pad>\n<unk>\nthe\nand\ndon't\n1999\n")
put("vocab", "imdb-markers-only", "<pad>\n<unk>\n")
put("vocab", "imdb-no-final-newline", "<pad>\n<unk>\nthe")
put("vocab", "imdb-bad-token", "<pad>\n<unk>\nthe\ncaf\xe9\n")
put("vocab", "imdb-duplicate", "<pad>\n<unk>\nthe\nthe\n")
put("vocab", "imdb-wrong-marker", "<unk>\n<pad>\nthe\n")
put("vocab", "imdb-empty-line", "<pad>\n<unk>\n\nthe\n")
put("vocab", "newline-only", "\n")
