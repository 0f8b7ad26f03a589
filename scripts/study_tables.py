#!/usr/bin/python3
"""The study tables of a finished sweep folder, as Markdown, with every figure a ratio against
back-propagation on the baseline of the same sweep.

  study_tables.py e2train SWEEP   E2-Train (configs/sweeps/e2train.json): per configuration the test
                                  accuracy, executed iterations, SLU skip (last epoch's mean and the
                                  traced mini-batch's), cycles, energy and DRAM bytes per iteration,
                                  and whole-run energy (per-iteration energy x executed iterations)
  study_tables.py schemes SWEEP   training schemes (configs/sweeps/schemes.json): per scheme and
                                  backward schedule the test accuracy, cycles, energy and DRAM bytes
                                  per iteration; then, per scheme and layer type, what the
                                  interleaved schedule changes in the backward and weight-gradient
                                  phases (cycles, DRAM bytes, GLB traffic, energy)

The reference row is the sweep's back-propagation point with no E2-Train flag, no gradient
filtering, every layer trained and the separate schedule. Only the standard library: it runs on the
system's /usr/bin/python3. Errors are one line on stderr and exit code 1.
"""
import argparse
import ast
import json
import os
import struct
import sys


# The error type and JSON reader of the paper study's helper (one place for both scripts).
sys.dont_write_bytecode = True  # nothing written into the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paper_study import StudyError, read_json  # noqa: E402


def npy_mean(path):
    """Mean of a little-endian float32 .npy file (the trace's tensors), without numpy."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise StudyError("%s: cannot read (%s)" % (path, e.strerror))
    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        raise StudyError("%s: not a .npy file" % path)
    if data[6] == 1:
        hlen, start = struct.unpack("<H", data[8:10])[0], 10
    else:
        hlen, start = struct.unpack("<I", data[8:12])[0], 12
    try:
        header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    except (ValueError, SyntaxError):
        raise StudyError("%s: unreadable .npy header" % path)
    if header.get("descr") != "<f4" or header.get("fortran_order"):
        raise StudyError("%s: expected little-endian float32 in C order, found %s" %
                         (path, header.get("descr")))
    count = 1
    for d in header.get("shape", ()):
        count *= d
    body = data[start + hlen:]
    if len(body) != 4 * count or count == 0:
        raise StudyError("%s: holds %d bytes for %d entries" % (path, len(body), count))
    return sum(struct.unpack("<%df" % count, body)) / count


class Sweep:
    def __init__(self, folder):
        self.folder = folder
        points = os.path.join(folder, "points")
        if not os.path.isdir(points):
            raise StudyError("%s: not a sweep folder (no points/)" % folder)
        # The points of the sweep as last configured (sweep.json): a folder resumed with an edited
        # config keeps the results of points the config no longer has.
        listed = None
        if os.path.exists(os.path.join(folder, "sweep.json")):
            listed = {p.get("id") for p in read_json(os.path.join(folder, "sweep.json"))
                      .get("points", [])}
        self.rows = []
        for name in sorted(os.listdir(points)):
            result = os.path.join(points, name, "result.json")
            if listed is not None and name not in listed:
                continue
            if os.path.exists(result):
                row = read_json(result).get("row")
                if not isinstance(row, dict):
                    raise StudyError("%s: no 'row' object" % result)
                check_row(row, result)
                row["_dir"] = os.path.join(points, name)
                self.rows.append(row)
        if not self.rows:
            raise StudyError("%s: no finished point (no points/*/result.json)" % folder)
        self.rows.sort(key=lambda r: r.get("index", 0))
        refs = [r for r in self.rows if is_reference(r)]
        if not refs:
            raise StudyError("%s: no back-propagation reference point (mode bp, no E2-Train flag, "
                             "no gradient filtering, separate schedule)" % folder)
        self.ref = refs[0]

    def trace_file(self, row, *parts):
        return os.path.join(self.folder, "traces", row["trace_key"], *parts)

    def report(self, row):
        return read_json(os.path.join(row["_dir"], "sim", "report.json"))


# What the tables read of every point's row, and its type.
ROW_FIELDS = {"mode": str, "hw_config": str, "trace_key": str, "iterations_executed": int,
              "iterations_nominal": int, "cycles_total": (int, float),
              "energy_pj_total": (int, float), "energy_pj_run_total": (int, float),
              "dram_bytes": (int, float)}


def check_row(row, path):
    for key, kind in ROW_FIELDS.items():
        if key not in row:
            raise StudyError("%s: /row/%s: missing" % (path, key))
        if not isinstance(row[key], kind) or isinstance(row[key], bool):
            raise StudyError("%s: /row/%s: must be a %s" % (
                path, key, "string" if kind is str else "number"))
    if row.get("test_accuracy") is not None and not isinstance(row["test_accuracy"], (int, float)):
        raise StudyError("%s: /row/test_accuracy: must be a number" % path)


def field(row, key, default=None):
    v = row.get(key, default)
    return default if v is None else v


def is_reference(r):
    return (r.get("mode") == "bp" and field(r, "smd_drop_prob", 0) == 0 and
            field(r, "weight_gradient", "exact") == "exact" and
            field(r, "slu_target_skip", 0) == 0 and field(r, "grad_filter", 0) == 0 and
            field(r, "trainable_last", 0) == 0 and
            field(r, "backward_schedule", "separate") == "separate")


def ratio(a, b):
    return "%.3f" % (a / b) if b else "n/a"


def percent(x):
    return "%.2f%%" % (100 * x) if x is not None else "n/a"


def reading(what):
    """A table helper whose files may lack a field or hold the wrong type: one line naming them."""
    def wrap(fn):
        def run(sweep, row, *rest):
            try:
                return fn(sweep, row, *rest)
            except (KeyError, TypeError, AttributeError, IndexError) as e:
                raise StudyError("%s of point %s (%s): unexpected contents (%s: %s)" % (
                    what, os.path.basename(row["_dir"]), sweep.folder, type(e).__name__, e))
        return run
    return wrap


@reading("the training metrics or trace manifest")
def slu_skips(sweep, row):
    """(last epoch's mean skip, traced mini-batch's skip) of an SLU run, else None."""
    if not field(row, "slu_target_skip", 0):
        return None
    metrics = read_json(sweep.trace_file(row, "train", "metrics.json"))
    epochs = metrics.get("epochs") or [{}]
    epoch = epochs[-1].get("slu", {}).get("skip")
    manifest = read_json(sweep.trace_file(row, "trace", "manifest.json"))
    blocks = manifest.get("slu", {}).get("blocks", [])
    if not blocks:
        return epoch, None
    active = [npy_mean(sweep.trace_file(row, "trace", b["mask"])) for b in blocks]
    return epoch, 1 - sum(active) / len(active)


def e2train_name(r):
    if r.get("mode") != "bp":
        p = field(r, "pruning_rate", 0)
        return "%s P = %g" % (r.get("mode"), p) if p else r.get("mode")
    parts = []
    if field(r, "smd_drop_prob", 0):
        parts.append("SMD %g" % r["smd_drop_prob"])
    if field(r, "weight_gradient", "exact") == "psg":
        parts.append("PSG")
    if field(r, "slu_target_skip", 0):
        parts.append("SLU %g" % r["slu_target_skip"])
    return " + ".join(parts) if parts else "BP"


def e2train(sweep):
    ref = sweep.ref
    out = ["| run | hw config | test acc | executed / nominal it | SLU skip: last epoch / traced "
           "| cycles/it | × BP | energy/it | × BP | DRAM bytes/it × BP | run energy × BP |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sweep.rows:
        skips = slu_skips(sweep, r)
        skip = "" if skips is None else "%s / %s" % tuple(
            "n/a" if s is None else "%.0f%%" % (100 * s) for s in skips)
        out.append("| %s | %s | %s | %d / %d | %s | %.3f M | %s | %.0f µJ | %s | %s | %s |" % (
            e2train_name(r), os.path.splitext(os.path.basename(r["hw_config"]))[0],
            percent(r.get("test_accuracy")), r["iterations_executed"], r["iterations_nominal"],
            skip, r["cycles_total"] / 1e6, ratio(r["cycles_total"], ref["cycles_total"]),
            r["energy_pj_total"] / 1e6, ratio(r["energy_pj_total"], ref["energy_pj_total"]),
            ratio(r["dram_bytes"], ref["dram_bytes"]),
            ratio(r["energy_pj_run_total"], ref["energy_pj_run_total"])))
    return "\n".join(out) + "\n"


def scheme_name(r):
    if field(r, "trainable_last", 0):
        k, g = r["trainable_last"], field(r, "grad_filter", 0)
        return ("gradient filtering R%d, last %d" % (g, k)) if g else "fine-tune last %d" % k
    p = field(r, "pruning_rate", 0)
    return "%s P = %g" % (r["mode"], p) if p else r["mode"]


PHASES = ("backward", "weight_gradient")


@reading("the trace manifest")
def layer_kinds(sweep, row):
    manifest = read_json(sweep.trace_file(row, "trace", "manifest.json"))
    kinds = {}
    for layer in manifest.get("layers", []):
        if layer.get("type") == "fc":
            kinds[layer["name"]] = "FC"
        elif layer.get("type") == "conv":
            kernel = layer.get("kernel", [0, 0])
            kinds[layer["name"]] = "conv %dx%d" % (kernel[0], kernel[1])
    return kinds


@reading("the simulator report")
def by_kind(sweep, row, kinds):
    """Per layer kind: [cycles, DRAM bytes, GLB bits, energy pJ] of the backward phases."""
    out = {}
    for layer in sweep.report(row).get("layers", []):
        kind = kinds.get(layer.get("name"))
        if kind is None:
            continue
        acc = out.setdefault(kind, [0, 0, 0, 0.0])
        for phase in PHASES:
            p = layer.get("phases", {}).get(phase)
            if not p:
                continue
            acc[0] += p["cycles"]
            acc[1] += p["dram"]["read_bytes"] + p["dram"]["write_bytes"]
            acc[2] += sum(v for k, v in p["actions"].items() if k.startswith("glb_"))
            acc[3] += p["energy_pj"]["total"]
    return out


def schemes(sweep):
    ref = sweep.ref
    out = ["| scheme | hw config | schedule | test acc | cycles/it | × BP | energy/it | × BP "
           "| DRAM bytes/it | × BP |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sweep.rows:
        out.append("| %s | %s | %s | %s | %.3f M | %s | %.0f µJ | %s | %.2f M | %s |" % (
            scheme_name(r), os.path.splitext(os.path.basename(r["hw_config"]))[0],
            field(r, "backward_schedule", "separate"), percent(r.get("test_accuracy")),
            r["cycles_total"] / 1e6, ratio(r["cycles_total"], ref["cycles_total"]),
            r["energy_pj_total"] / 1e6, ratio(r["energy_pj_total"], ref["energy_pj_total"]),
            r["dram_bytes"] / 1e6, ratio(r["dram_bytes"], ref["dram_bytes"])))
    out += ["", "Interleaved against separate, backward and weight-gradient phases summed per "
            "layer type:", "",
            "| scheme | layer type | layers' cycles | × | DRAM bytes | × | GLB traffic × "
            "| energy × |", "|---|---|---|---|---|---|---|---|"]
    separate = {}
    for r in sweep.rows:
        if field(r, "backward_schedule", "separate") == "separate":
            separate[(r["trace_key"], r["hw_config"])] = r
    for r in sweep.rows:
        if field(r, "backward_schedule", "separate") != "interleaved":
            continue
        s = separate.get((r["trace_key"], r["hw_config"]))
        if s is None:
            continue
        kinds = layer_kinds(sweep, r)
        a, b = by_kind(sweep, s, kinds), by_kind(sweep, r, kinds)
        for kind in sorted(a):
            x, y = a[kind], b.get(kind, [0, 0, 0, 0.0])
            if not x[0]:
                continue  # frozen: no backward work
            out.append("| %s | %s | %d → %d | %s | %d → %d | %s | %s | %s |" % (
                scheme_name(r), kind, x[0], y[0], ratio(y[0], x[0]), x[1], y[1],
                ratio(y[1], x[1]), ratio(y[2], x[2]), ratio(y[3], x[3])))
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(prog="study_tables.py", description=__doc__.split("\n")[0])
    ap.add_argument("study", choices=["e2train", "schemes"])
    ap.add_argument("sweep", help="a sweep folder (egsim sweep --out)")
    args = ap.parse_args(argv)
    try:
        sweep = Sweep(args.sweep)
        text = e2train(sweep) if args.study == "e2train" else schemes(sweep)
    except StudyError as e:
        print("study_tables.py: %s" % e, file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
