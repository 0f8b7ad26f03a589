#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses (tests/fuzz/corpus/<harness>/) and their libFuzzer
dictionaries (tests/fuzz/dict/<harness>.dict).

Each harness gets a few small valid inputs (named valid*, which the regression test requires the
readers to accept) and near-valid ones that each break one rule, so the fuzzer starts next to every
check. Multi-file inputs (a trace, a data set, two reports) join their files with the separator of
tests/fuzz/fuzz_support.hpp. Deterministic: rerunning rewrites the same bytes.

usage: scripts/make_fuzz_seeds.py   (from anywhere; needs numpy)
"""
import copy
import gzip
import json
import os
import shutil
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
DICT = os.path.join(ROOT, "tests", "fuzz", "dict")
SEP = b"\n=egfuzz-part=\n"  # kPartSeparator in tests/fuzz/fuzz_support.hpp

# Floats in the state of the network entry_checkpoint.cpp builds (ResNet-20 at width 1/16, so 1, 2
# and 4 channels, on 1x8x8 images, 10 classes): every parameter (conv and fc weights, BN gamma and
# beta: 1,200) and its momentum, then the BN running means and variances (100). The regression test
# fails if the valid checkpoint seed stops matching the network.
CHECKPOINT_FLOATS = 2 * 1200 + 100


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def js(value):
    return json.dumps(value, indent=1, sort_keys=False).encode() + b"\n"


def npy_bytes(array, header_override=None, version=1):
    """A .npy file as numpy writes it (format 1.0), or with its header dict replaced."""
    array = np.ascontiguousarray(array)
    shape = array.shape
    shape_text = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    d = header_override or "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_text
    d = d.encode()
    prefix = 6 + 2 + (2 if version == 1 else 4)
    pad = (64 - (prefix + len(d) + 1) % 64) % 64
    d = d + b" " * pad + b"\n"
    length = struct.pack("<H", len(d)) if version == 1 else struct.pack("<I", len(d))
    return b"\x93NUMPY" + bytes([version, 0]) + length + d + array.astype("<f4").tobytes()


def seeds_npy():
    a = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    put("npy", "valid_2x3.npy", npy_bytes(a))
    put("npy", "valid_1d.npy", npy_bytes(np.array([1.5, -2.0, 0.0], dtype=np.float32)))
    put("npy", "valid_scalar.npy", npy_bytes(np.array(3.0, dtype=np.float32)))
    put("npy", "valid_v2_header.npy", npy_bytes(a, version=2))
    put("npy", "valid_4d.npy", npy_bytes(np.ones((1, 2, 2, 2), dtype=np.float32)))
    put("npy", "f8_dtype.npy",
        npy_bytes(a, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"))
    put("npy", "fortran_order.npy",
        npy_bytes(a, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"))
    put("npy", "truncated_data.npy", npy_bytes(a)[:-5])
    put("npy", "nan_value.npy", npy_bytes(np.array([1.0, np.nan], dtype=np.float32)))
    put("npy", "huge_shape.npy",
        npy_bytes(a, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"))
    put("npy", "negative_shape.npy",
        npy_bytes(a, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }"))
    put("npy", "empty_shape_entry.npy",
        npy_bytes(a, "{'descr': '<f4', 'fortran_order': False, 'shape': , }"))
    put("npy", "bad_magic.npy", b"\x93NUMPX" + npy_bytes(a)[6:])


def conv_layer(name, inputs, n, c, h, m, files):
    return {
        "name": name, "type": "conv", "inputs": inputs,
        "in": [n, c, h, h], "out": [n, m, h, h], "kernel": [3, 3], "stride": 1, "pad": 1,
        "tensors": files,
        "stats": {"dy_nonzero_fraction": 1.0, "dy_nonzero_fraction_before_pruning": 1.0,
                  "tau": 0.0, "angle_to_bp_deg": 0.0},
    }


def trace_seed(manifest, tensors):
    return SEP.join([js(manifest)] + tensors)


def seeds_trace():
    rng = np.random.default_rng(1)
    n, c, h, m = 1, 1, 4, 2
    shapes = {"x": (n, c, h, h), "w": (m, c, 3, 3), "feedback": (m, c, 3, 3), "y": (n, m, h, h),
              "dy": (n, m, h, h), "dx": (n, c, h, h), "dw": (m, c, 3, 3)}
    roles = list(shapes)
    files = {r: "t%d.npy" % (i + 1) for i, r in enumerate(roles)}
    tensors = [npy_bytes(rng.standard_normal(shapes[r]).astype(np.float32)) for r in roles]
    conv = conv_layer("conv1", [], n, c, h, m, files)
    manifest = {"format": "egtrace", "version": 1, "network": "tiny", "dataset": "synthetic",
                "mode": "efficientgrad", "pruning_rate": 0.5, "sigma_estimator": "mean_abs",
                "seed": 1, "iteration": 1, "batch": n, "layers": [conv]}
    put("trace", "valid_conv.bin", trace_seed(manifest, tensors))

    relu = {"name": "relu1", "type": "relu", "inputs": ["conv1"], "in": [n, m, h, h],
            "out": [n, m, h, h], "tensors": {"x": "t8.npy"},
            "stats": {"dy_nonzero_fraction": 1.0, "dy_nonzero_fraction_before_pruning": 1.0,
                      "tau": 0.0, "angle_to_bp_deg": 0.0, "extra": {"sigma": 0.1}}}
    pool = {"name": "pool", "type": "avgpool", "inputs": ["relu1"], "in": [n, m, h, h],
            "out": [n, m, 1, 1], "kernel": [4, 4], "stride": 1, "pad": 0, "tensors": {},
            "stats": {"dy_nonzero_fraction": 1.0, "dy_nonzero_fraction_before_pruning": 1.0,
                      "tau": 0.0, "angle_to_bp_deg": 0.0}}
    fc = {"name": "fc", "type": "fc", "inputs": ["pool"], "in": [n, m], "out": [n, 3],
          "tensors": {},
          "stats": {"dy_nonzero_fraction": 0.5, "dy_nonzero_fraction_before_pruning": 1.0,
                    "tau": 0.25, "angle_to_bp_deg": 30.0}}
    m2 = copy.deepcopy(manifest)
    m2["layers"] = [conv, relu, pool, fc]
    put("trace", "valid_network.bin",
        trace_seed(m2, tensors + [npy_bytes(np.zeros(shapes["y"], dtype=np.float32))]))

    m3 = copy.deepcopy(manifest)
    m3["layers"][0]["stride"] = 2  # out no longer follows from the geometry
    put("trace", "stride_mismatch.bin", trace_seed(m3, tensors))
    m4 = copy.deepcopy(manifest)
    m4["layers"][0]["tensors"]["x"] = "t9.npy"  # a tensor file that is not there
    put("trace", "missing_tensor.bin", trace_seed(m4, tensors))
    m5 = copy.deepcopy(manifest)
    m5["layers"][0]["in"] = [n, c, 5, 5]  # tensor shape differs from the layer's
    put("trace", "wrong_tensor_shape.bin", trace_seed(m5, tensors))
    put("trace", "manifest_only.bin", js(manifest))
    m6 = copy.deepcopy(manifest)
    m6["batch"] = 2**64 - 1
    put("trace", "batch_2_64.bin", trace_seed(m6, tensors))

    # Version 2: the optimizer and the update roles (the step's momentum, weights and momentum
    # after it), with a subset of the version 1 roles so every file fits the entry's parts.
    v2_roles = ["x", "w", "dy", "dw", "momentum", "w_next", "momentum_next"]
    wshape = shapes["w"]
    v2_shapes = dict(shapes, momentum=wshape, w_next=wshape, momentum_next=wshape)
    v2_files = {r: "t%d.npy" % (i + 1) for i, r in enumerate(v2_roles)}
    v2_tensors = [npy_bytes(rng.standard_normal(v2_shapes[r]).astype(np.float32))
                  for r in v2_roles]
    m7 = copy.deepcopy(manifest)
    m7["version"] = 2
    m7["optimizer"] = {"type": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4}
    m7["layers"] = [conv_layer("conv1", [], n, c, h, m, v2_files)]
    put("trace", "valid_conv_v2.bin", trace_seed(m7, v2_tensors))
    m8 = copy.deepcopy(m7)
    m8["version"] = 1  # update roles and an optimizer in a version 1 trace
    put("trace", "update_roles_v1.bin", trace_seed(m8, v2_tensors))


STATS = {"dy_nonzero_fraction": 1.0, "dy_nonzero_fraction_before_pruning": 1.0, "tau": 0.0,
         "angle_to_bp_deg": 0.0}


def window_out(size, kernel, stride, pad):
    return (size + 2 * pad - kernel) // stride + 1


def conv(name, inputs, n, c, h, m, k, stride, pad):
    e = window_out(h, k, stride, pad)
    return {"name": name, "type": "conv", "inputs": inputs, "in": [n, c, h, h],
            "out": [n, m, e, e], "kernel": [k, k], "stride": stride, "pad": pad, "tensors": {},
            "stats": STATS}


def manifest_of(layers, batch):
    return {"format": "egtrace", "version": 1, "network": "tiny", "dataset": "synthetic",
            "mode": "efficientgrad", "pruning_rate": 0.5, "sigma_estimator": "mean_abs",
            "seed": 1, "iteration": 1, "batch": batch, "layers": layers}


def seeds_trace_map():
    """Manifests without tensor files (a trace opens without them): layer geometries to map."""
    n = 2
    c1 = conv("conv1", [], n, 3, 8, 8, 3, 1, 1)
    c2 = conv("conv2", ["conv1"], n, 8, 8, 16, 3, 2, 1)
    sc = conv("shortcut", ["conv1"], n, 8, 8, 16, 1, 2, 0)
    add = {"name": "add", "type": "add", "inputs": ["conv2", "shortcut"], "in": [n, 16, 4, 4],
           "out": [n, 16, 4, 4], "tensors": {}, "stats": STATS}
    pool = {"name": "pool", "type": "avgpool", "inputs": ["add"], "in": [n, 16, 4, 4],
            "out": [n, 16, 1, 1], "kernel": [4, 4], "stride": 1, "pad": 0, "tensors": {},
            "stats": STATS}
    fc = {"name": "fc", "type": "fc", "inputs": ["pool"], "in": [n, 16], "out": [n, 10],
          "tensors": {}, "stats": STATS}
    put("trace_map", "valid_block.json", js(manifest_of([c1, c2, sc, add, pool, fc], n)))
    put("trace_map", "valid_conv_5x5_stride_3.json",
        js(manifest_of([conv("c", [], 1, 4, 11, 4, 5, 3, 2)], 1)))
    put("trace_map", "valid_fc.json", js(manifest_of([dict(fc, inputs=[])], n)))
    wide = conv("wide", [], 1, 512, 4, 512, 3, 1, 1)
    put("trace_map", "valid_wide_channels.json", js(manifest_of([wide], 1)))
    big = conv("big", [], 1, 1, 64, 1, 64, 1, 0)
    put("trace_map", "valid_kernel_64.json", js(manifest_of([big], 1)))
    huge = conv("huge", [], 1, 1, 8, 1, 3, 1, 1)
    huge["stride"] = 2**63 - 1
    put("trace_map", "stride_2_63.json", js(manifest_of([huge], 1)))
    many = conv("many", [], 256, 2048, 64, 2048, 3, 1, 1)
    put("trace_map", "macs_beyond_limit.json", js(manifest_of([many], 256)))


def stock(path):
    with open(os.path.join(ROOT, "configs", path)) as f:
        return json.load(f)


def short_sources(table):
    """An energy table with one-word sources: the same structure in a tenth of the bytes."""
    t = copy.deepcopy(table)
    t["description"] = "seed"
    for entry in t["entries"].values():
        entry["source"] = "s"
    return t


def seeds_configs():
    hw = stock("hw/efficientgrad.json")
    hw["offchip"]["dram_config"] = "dram.json"  # the names entry_config.cpp provides
    hw["energy_table"] = "energy.json"
    put("hw_config", "valid_efficientgrad.json", js(hw))
    base = stock("hw/eyeriss_v2_bp.json")
    base["offchip"]["dram_config"] = "dram.json"
    base["energy_table"] = "energy.json"
    put("hw_config", "valid_baseline.json", js(base))
    ideal = copy.deepcopy(hw)
    ideal["offchip"]["model"] = "ideal"
    put("hw_config", "valid_ideal_memory.json", js(ideal))
    big = copy.deepcopy(hw)
    big["array"] = {"pc_rows": 64, "pc_cols": 64, "pe_rows": 64, "pe_cols": 64}
    put("hw_config", "huge_array.json", js(big))
    unknown = copy.deepcopy(hw)
    unknown["pe"]["spad"] = 1
    put("hw_config", "unknown_key.json", js(unknown))
    missing = copy.deepcopy(hw)
    missing["energy_table"] = "absent.json"
    put("hw_config", "missing_energy_table.json", js(missing))
    put("hw_config", "deep_nesting.json", "[" * 5000 + "]" * 5000)

    dram = stock("dram/lpddr4_3200_x32.json")
    dram["source"] = "seed"
    put("dram_config", "valid_lpddr4.json", js(dram))
    closed = copy.deepcopy(dram)
    closed["page_policy"] = "closed"
    closed["address_mapping"] = ["bank", "row", "column"]
    put("dram_config", "valid_closed_page.json", js(closed))
    t = copy.deepcopy(dram)
    t["timing_ns"]["tRCD"] = 1e300
    put("dram_config", "trcd_1e300.json", js(t))
    b = copy.deepcopy(dram)
    b["banks"] = 2**28
    put("dram_config", "banks_2_28.json", js(b))
    r = copy.deepcopy(dram)
    r["data_rate_mtps"] = 3
    put("dram_config", "odd_clock.json", js(r))

    energy = short_sources(stock("energy/horowitz45.json"))
    put("energy", "valid_horowitz45_short.json", js(energy))
    put("energy", "valid_scaled14_short.json", js(short_sources(stock("energy/scaled14.json"))))
    neg = copy.deepcopy(energy)
    next(iter(neg["entries"].values()))["value"] = -1
    put("energy", "negative_value.json", js(neg))
    nosrc = copy.deepcopy(energy)
    del next(iter(nosrc["entries"].values()))["source"]
    put("energy", "missing_source.json", js(nosrc))
    put("energy", "deep_nesting.json", '{"entries":' + "{\"a\":" * 3000 + "1" + "}" * 3001)


def seeds_sweep():
    sweep = {
        "name": "seed",
        "description": "fuzz seed",
        "training": {"config": "train.json", "epochs": 1, "iterations": 4, "batch": 4,
                     "width": 0.25, "lr": 0.05, "threads": 1, "trace_iteration": 4,
                     "extra_args": ["--synthetic-height", "8"]},
        "grids": [
            {"label": "eg", "networks": ["resnet20"], "datasets": ["synthetic"],
             "modes": ["efficientgrad"], "pruning_rates": [0, 0.9], "hw_configs": ["hw.json"],
             "seeds": [1]},
            {"label": "ref", "networks": ["resnet20", "resnet18"], "datasets": ["fashion-mnist"],
             "modes": ["bp"], "pruning_rates": [0], "hw_configs": ["./hw.json"], "seeds": [1, 2]},
        ],
        "slurm": {"partition": "p", "time": "01:00:00", "cpus_per_task": 2, "mem": "4G"},
    }
    put("sweep", "valid_two_grids.json", js(sweep))
    minimal = {"name": "m", "grids": [{"networks": ["resnet20"], "datasets": ["synthetic"],
                                       "modes": ["bp"], "pruning_rates": [0],
                                       "hw_configs": ["hw.json"], "seeds": [0]}]}
    put("sweep", "valid_minimal.json", js(minimal))
    dup = copy.deepcopy(minimal)
    dup["grids"].append(copy.deepcopy(dup["grids"][0]))
    put("sweep", "duplicate_points.json", js(dup))
    bad_rate = copy.deepcopy(minimal)
    bad_rate["grids"][0]["pruning_rates"] = [0.5]
    put("sweep", "rate_without_pruning.json", js(bad_rate))
    big = copy.deepcopy(minimal)
    big["grids"][0]["seeds"] = list(range(64))
    big["grids"][0]["modes"] = ["bp", "fa", "sign", "ssfa"]
    put("sweep", "many_points.json", js(big))
    missing = copy.deepcopy(minimal)
    missing["grids"][0]["hw_configs"] = ["absent.json"]
    put("sweep", "missing_hw_config.json", js(missing))
    huge_seed = copy.deepcopy(minimal)
    huge_seed["grids"][0]["seeds"] = [18446744073709551615]
    put("sweep", "seed_2_64.json", js(huge_seed))
    # The E2-Train and gradient-filtering axes, the backward-schedule edit and the fine-tuning
    # keys (init_from names any existing file: the sweep only hashes it).
    axes = copy.deepcopy(minimal)
    axes["grids"][0].update({"smd_drop_probs": [0, 0.5], "weight_gradients": ["exact", "psg"],
                             "slu_target_skips": [0, 0.2], "trainable_lasts": [4],
                             "grad_filters": [0, 2], "backward_schedules": ["separate", "interleaved"],
                             "init_from": "train.json", "train_range": "100:200"})
    put("sweep", "valid_axes.json", js(axes))
    unfiltered = copy.deepcopy(axes)
    unfiltered["grids"][0]["trainable_lasts"] = [0, 4]
    put("sweep", "grad_filter_without_trainable_last.json", js(unfiltered))
    reversed_range = copy.deepcopy(axes)
    reversed_range["grids"][0]["train_range"] = "200:100"
    put("sweep", "train_range_reversed.json", js(reversed_range))


def figures(cycles, gops, power, energy, dram_read, dram_write):
    return {"cycles": cycles, "seconds": cycles / 500e6, "gops": gops, "power_mw": power,
            "stalls": {"input": 10, "output": 0, "idle": 5},
            "energy_pj": {"total": energy, "mac": energy / 4, "dram": energy / 2},
            "dram": {"read_bytes": dram_read, "write_bytes": dram_write,
                     "by_class": {"weights": {"read_bytes": dram_read / 2, "write_bytes": 0}}}}


def report(scale, with_update):
    r = {"schema": "egsim-report", "version": 1, "clock_mhz": 500,
         "trace": {"network": "tiny", "mode": "bp"}, "layers": []}
    r["totals"] = figures(1000 * scale, 10 / scale, 200, 4000, 800, 200)
    r["phases"] = {"forward": figures(400 * scale, 12, 100, 1000, 300, 100)}
    if with_update:
        r["phases"]["weight_update"] = figures(50, 1, 50, 400, 100, 100)
    return r


def seeds_report():
    a, b = report(2.0, True), report(1.0, False)
    put("report", "valid_pair.json", js(a) + SEP + js(b))
    put("report", "valid_single.json", js(a))
    zero = copy.deepcopy(b)
    zero["totals"]["cycles"] = 0
    put("report", "valid_zero_denominator.json", js(a) + SEP + js(zero))
    wrong = copy.deepcopy(b)
    wrong["schema"] = "egsim-compare"
    put("report", "wrong_schema.json", js(a) + SEP + js(wrong))
    odd = copy.deepcopy(b)
    odd["phases"]["forward"]["energy_pj"] = "lots"
    odd["totals"]["dram"] = [1, 2]
    put("report", "odd_types.json", js(a) + SEP + js(odd))
    put("report", "deep_totals.json",
        b'{"schema":"egsim-report","version":1,"totals":' + b'{"a":' * 3000 + b"1" + b"}" * 3001)


def seeds_train_config():
    put("train_config", "valid_resnet20_fashion_mnist.json",
        js(stock("train/resnet20_fashion_mnist.json")))
    put("train_config", "valid_resnet18_cifar10.json", js(stock("train/resnet18_cifar10.json")))
    synthetic = {"network": "resnet20", "dataset": "synthetic", "mode": "efficientgrad",
                 "pruning-rate": 0.5, "width": 0.25, "batch": 4, "epochs": 1, "iterations": 4,
                 "synthetic-train-size": 32, "synthetic-test-size": 16, "synthetic-height": 8,
                 "synthetic-width": 8, "synthetic-channels": 1, "histogram-bins": 41,
                 "lr-schedule": "step", "lr-step-epochs": 1}
    put("train_config", "valid_synthetic.json", js(synthetic))
    for name, key, value in [("lr_string_nan", "lr", "nan"), ("lr_huge", "lr", 1e308),
                             ("height_2_32", "synthetic-height", 4294967296),
                             ("bins_1e9", "histogram-bins", 1000000000),
                             ("batch_2_64", "batch", 18446744073709551615),
                             ("unknown_key", "learning-rate", 0.1),
                             ("trace_iteration_alone", "trace-iteration", 4)]:
        bad = dict(synthetic)
        bad[key] = value
        put("train_config", name + ".json", js(bad))


def idx(magic_rank, dims, payload):
    return struct.pack(">I", 0x0800 | magic_rank) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_set(train_n, test_n, h, w, test_h=None, test_w=None, labels=None):
    rng = np.random.default_rng(2)
    th, tw = test_h or h, test_w or w
    parts = [
        idx(3, [train_n, h, w], rng.integers(0, 256, train_n * h * w, dtype=np.uint8).tobytes()),
        idx(1, [train_n], bytes(labels or [i % 10 for i in range(train_n)])),
        idx(3, [test_n, th, tw], rng.integers(0, 256, test_n * th * tw, dtype=np.uint8).tobytes()),
        idx(1, [test_n], bytes(i % 10 for i in range(test_n))),
    ]
    return parts


def seeds_idx():
    put("idx", "valid_4x4.bin", SEP.join(idx_set(4, 2, 4, 4)))
    gz = [gzip.compress(p, mtime=0) for p in idx_set(3, 2, 5, 3)]
    put("idx", "valid_gzip.bin", SEP.join(gz))
    put("idx", "test_shape_differs.bin", SEP.join(idx_set(4, 2, 4, 4, test_h=3, test_w=5)))
    put("idx", "zero_rows.bin", SEP.join(idx_set(0, 0, 4, 4)))
    put("idx", "label_out_of_range.bin", SEP.join(idx_set(2, 2, 2, 2, labels=[1, 10])))
    p = idx_set(2, 2, 2, 2)
    p[0] = idx(3, [2, 65536, 65536], b"")  # dimensions whose product wraps to 0 in 32 bits
    put("idx", "wrapping_dims.bin", SEP.join(p))
    put("idx", "missing_test_files.bin", SEP.join(idx_set(2, 2, 2, 2)[:2]))


def seeds_cifar():
    record = 1 + 3 * 32 * 32

    def batch(n, first_label=0):
        out = bytearray()
        for i in range(n):
            out.append((first_label + i) % 10)
            out += bytes((i * 7 + k) % 256 for k in range(record - 1))
        return bytes(out)

    put("cifar", "valid_one_record_each.bin", SEP.join([batch(1, b) for b in range(6)]))
    put("cifar", "partial_record.bin", SEP.join([batch(1)] * 5 + [batch(1)[:-1]]))
    bad = bytearray(batch(1))
    bad[0] = 10
    put("cifar", "label_10.bin", SEP.join([batch(1)] * 5 + [bytes(bad)]))
    put("cifar", "empty_test_batch.bin", SEP.join([batch(1)] * 5 + [b""]))
    put("cifar", "missing_batches.bin", SEP.join([batch(1)] * 3))


def checkpoint(header, floats):
    text = json.dumps(header, separators=(",", ":")).encode()
    return b"EGCKPT01" + struct.pack("<Q", len(text)) + text + b"\0" * (4 * floats)


def resnet20_weighted_layers():
    """Names of the weighted layers of build_resnet("resnet20"), in network order."""
    names = ["conv1"]
    for stage in range(3):
        for block in range(3):
            p = "layer%d.%d" % (stage + 1, block)
            names += [p + ".conv1", p + ".conv2"]
            if stage > 0 and block == 0:
                names.append(p + ".shortcut.conv")
    return names + ["fc"]


def seeds_checkpoint(floats):
    # The run entry_checkpoint.cpp resumes: this config echo, 2 epochs of 8 mini-batches of 4,
    # 41 histogram bins.
    config = {"network": "resnet20", "dataset": "synthetic", "mode": "bp", "batch": 4,
              "width": 0.0625, "seed": 1}
    progress = {"epoch": 0, "batch_in_epoch": 2, "iteration": 2, "loss_sum": 4.5, "correct": 3,
                "seen": 8, "history": [], "last_layer_stats": []}
    header = {"config": config, "progress": progress}
    put("checkpoint", "valid_tiny_resnet20.ckpt", checkpoint(header, floats))

    rows = [{"name": name, "dy_nonzero_fraction": 0.5, "dy_nonzero_fraction_before_pruning": 1.0,
             "tau": 0.1, "angle_to_bp_deg": 12.5, "sigma": 0.01,
             "dy_histogram": {"counts": [0] * 20 + [4] + [0] * 20, "std": 0.02, "range_std": 4.0,
                              "of": "dy"}}
            for name in resnet20_weighted_layers()]
    epoch_row = {"epoch": 1, "iterations": 8, "partial": False, "lr": 0.05, "train_loss": 2.3,
                 "train_acc": 0.1, "test_loss": 2.3, "test_acc": 0.1, "layers": rows[:]}
    second = {"config": config,
              "progress": {"epoch": 1, "batch_in_epoch": 0, "iteration": 8, "loss_sum": 0.0,
                           "correct": 0, "seen": 0, "history": [epoch_row],
                           "last_layer_stats": rows}}
    put("checkpoint", "valid_after_one_epoch.ckpt", checkpoint(second, floats))

    bad = copy.deepcopy(header)
    bad["progress"]["batch_in_epoch"] = -1000000
    put("checkpoint", "negative_batch_in_epoch.ckpt", checkpoint(bad, floats))
    wrapped = copy.deepcopy(header)
    wrapped["progress"]["epoch"] = 2**63 - 1
    put("checkpoint", "epoch_2_63.ckpt", checkpoint(wrapped, floats))
    other = copy.deepcopy(header)
    other["config"]["width"] = 0.25
    put("checkpoint", "other_config.ckpt", checkpoint(other, floats))
    put("checkpoint", "truncated_tensors.ckpt", checkpoint(header, floats)[:-4])
    nan = bytearray(checkpoint(header, floats))
    nan[-4:] = struct.pack("<f", float("nan"))
    put("checkpoint", "nan_tensor.ckpt", bytes(nan))
    put("checkpoint", "header_length_huge.ckpt",
        b"EGCKPT01" + struct.pack("<Q", 2**64 - 8) + b"{}")
    put("checkpoint", "not_json_header.ckpt", b"EGCKPT01" + struct.pack("<Q", 3) + b"{x}")


def json_tokens(value, out):
    """Every key and string value of a JSON document, as dictionary tokens."""
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(json.dumps(k))
            json_tokens(v, out)
    elif isinstance(value, list):
        for v in value:
            json_tokens(v, out)
    elif isinstance(value, str) and len(value) <= 40:
        out.add(json.dumps(value))


def dict_entry(token):
    """A libFuzzer dictionary line: the token in double quotes, bytes outside printable ASCII and
    the quote and backslash escaped as \\xNN."""
    raw = token if isinstance(token, bytes) else token.encode()
    body = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else "\\x%02x" % b for b in raw)
    return '"%s"' % body


# Tokens of every JSON-reading harness: the syntax and the numbers at the edges of the readers'
# integer and floating-point ranges.
JSON_SYNTAX = ["{", "}", "[", "]", ":", ",", '""', "true", "false", "null", "-1", "0", "1e308",
               "-0", "1e-320", "18446744073709551615", "9223372036854775807",
               "9223372036854775808", "4294967296", "0.5", "NaN", "Infinity"]
BINARY_HARNESSES = {
    "npy": [b"\x93NUMPY", b"'descr'", b"'<f4'", b"'fortran_order'", b"False", b"True",
            b"'shape'", b"(", b")", b"\x01\x00", b"\x02\x00"],
    "idx": [b"\x00\x00\x08\x03", b"\x00\x00\x08\x01", b"\x1f\x8b\x08", b"\xff\xff\xff\xff",
            b"\x00\x01\x00\x00"],
    "cifar": [b"\x09", b"\x0a"],
    "checkpoint": [b"EGCKPT01", b"\xff\xff\xff\xff\xff\xff\xff\xff"],
}


def write_dicts():
    if os.path.isdir(DICT):
        shutil.rmtree(DICT)
    os.makedirs(DICT)
    for harness in sorted(os.listdir(CORPUS)):
        tokens = set()
        binary = [t for t in BINARY_HARNESSES.get(harness, [])]
        for name in sorted(os.listdir(os.path.join(CORPUS, harness))):
            with open(os.path.join(CORPUS, harness, name), "rb") as f:
                data = f.read()
            if harness == "checkpoint":
                data = data[16:]  # the JSON header after magic and length
            elif harness in BINARY_HARNESSES:
                continue
            for part in data.split(SEP):
                try:
                    json_tokens(json.JSONDecoder().raw_decode(part.decode("latin-1"))[0], tokens)
                except (ValueError, RecursionError):
                    pass
        lines = [dict_entry(t) for t in sorted(tokens)]
        if harness not in BINARY_HARNESSES or harness == "checkpoint":
            lines += [dict_entry(t) for t in JSON_SYNTAX]
        lines += [dict_entry(t) for t in binary] + [dict_entry(SEP)]
        with open(os.path.join(DICT, harness + ".dict"), "w") as f:
            f.write("# written by scripts/make_fuzz_seeds.py from the seeds of this harness\n")
            f.write("\n".join(lines) + "\n")


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    seeds_npy()
    seeds_trace()
    seeds_trace_map()
    seeds_configs()
    seeds_sweep()
    seeds_report()
    seeds_train_config()
    seeds_idx()
    seeds_cifar()
    seeds_checkpoint(CHECKPOINT_FLOATS)
    write_dicts()
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(CORPUS) for f in fs)
    print("seed corpora: %d bytes in %s" % (total, CORPUS))


if __name__ == "__main__":
    main()
