#!/usr/bin/python3
"""Helper of scripts/paper_study.sh: derives the ablation configs and the run plan (`plan`), and
turns the simulation reports into the study's tables, chart page and conclusion (`tables`).

Only the standard library: it runs on the system's /usr/bin/python3.
"""
import argparse
import csv
import hashlib
import html
import io
import json
import os
import subprocess
import sys

# The paper's headline figures (EfficientGrad against an Eyeriss-v2-style BP array, same area):
# 2.44x throughput and 0.48x power. Used only as reference lines and in the conclusion's
# comparison; nothing is tuned towards them.
PAPER_THROUGHPUT = 2.44
PAPER_POWER = 0.48
# The pruning rate of the ablation rows and the headline comparison (issue #11: "EfficientGrad at
# P = 0.9 on the EfficientGrad config against BP on the baseline").
ABLATION_P = 0.9
# The P table's pruning rates (issue #11 §5).
P_VALUES = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95]
PHASES = ["forward", "backward", "weight_gradient", "weight_update"]
PLAN_FILE = "plan.json"
OUTPUTS = ["ablation.md", "ablation.csv", "p_table.md", "p_table.csv", "study.html",
           "conclusion.md"]


class StudyError(Exception):
    pass


# ---------------------------------------------------------------- small helpers
def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise StudyError(f"{path}: {e.strerror}")
    except ValueError as e:
        raise StudyError(f"{path}: not valid JSON ({e})")


def write_files_atomic(files):
    """Writes every (path, text) to a temporary file beside it, then renames them all, so an
    interrupted run leaves either the previous tables or the new ones, never a half-written one."""
    temps = []
    try:
        for path, text in files:
            tmp = f"{path}.tmp-{os.getpid()}"
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.remove(tmp)


def trace_name(kind, p, settings):
    return f"bp_{settings}" if kind == "bp" else f"eg_p{p:g}_{settings}"


def without_name(cfg):
    c = dict(cfg)
    c.pop("name", None)
    return c


def canonical(cfg):
    return json.dumps(without_name(cfg), sort_keys=True, separators=(",", ":"))


def resolve_paths(cfg, config_path):
    """A derived config is written into the study folder: the files the original names relative
    to itself (DRAM config, energy table) are made absolute so they still resolve."""
    base = os.path.dirname(os.path.abspath(config_path))
    off = cfg.get("offchip", {})
    if isinstance(off.get("dram_config"), str):
        off["dram_config"] = os.path.normpath(os.path.join(base, off["dram_config"]))
    if isinstance(cfg.get("energy_table"), str):
        cfg["energy_table"] = os.path.normpath(os.path.join(base, cfg["energy_table"]))
    return cfg


def referenced_files_digest(cfg):
    """The contents of the files a config names (DRAM config, energy table): an edited table
    must not reuse a simulation run with the old one."""
    h = hashlib.sha256()
    for path in (get_key(cfg, ("offchip", "dram_config"))[0], cfg.get("energy_table")):
        if isinstance(path, str):
            try:
                with open(path, "rb") as f:
                    h.update(f.read())
            except OSError as e:
                raise StudyError(f"{path}: {e.strerror}")
    return h.hexdigest()


def get_key(cfg, path):
    node = cfg
    for k in path:
        if not isinstance(node, dict) or k not in node:
            return None, False
        node = node[k]
    return node, True


def set_if_present(cfg, path, value):
    """Applies one edit only when the config already has the key: a field another part of the
    project has not added yet is skipped (and reported), never invented."""
    _, present = get_key(cfg, path)
    if not present:
        return False
    node = cfg
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return True


def dotted(path):
    return ".".join(path)


def egsim_accepts(egsim, config_path):
    """True when this build of egsim loads the config (egsim describe); the first line of its
    error otherwise."""
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    r = subprocess.run([egsim, "describe", "--config", config_path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode == 0:
        return True, ""
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    return False, (lines[0] if lines else f"exit code {r.returncode}")


# ---------------------------------------------------------------- plan
# The cumulative ablation rows. Each edit is (key path, value).
ROWS = [
    {"id": "1", "label": "+ feedback in the PE spad (feedback_source pe_spad); EfficientGrad trace",
     "edits": [(("features", "feedback_source"), "pe_spad")], "trace": "eg"},
    {"id": "2", "label": "+ δ̂ zero-skipping in the sparse PE",
     "edits": [(("features", "sparse_operands", "backward_input"), True),
               (("features", "sparse_operands", "weight_gradient_filter"), True)], "trace": "eg"},
    {"id": "3", "label": "+ compressed δ̂ on chip and off chip",
     "edits": [(("features", "onchip_compression", "gradients"), True),
               (("features", "gradient_compression"), "csc")], "trace": "eg"},
    {"id": "4", "label": "+ fused weight update",
     "edits": [(("features", "fused_weight_update"), True)], "trace": "eg"},
    {"id": "5", "label": "+ 14 nm energy table (ratios against the baseline on the same table)",
     "edits": [(("energy_table",), "SCALED14")], "trace": "eg", "base": "0@14nm"},
]


def cmd_plan(a):
    repo = os.path.abspath(a.repo)
    out = os.path.abspath(a.out)
    hw = os.path.join(repo, "configs", "hw")
    base_path = os.path.join(hw, "eyeriss_v2_bp.json")
    eg_path = os.path.join(hw, "efficientgrad.json")
    scaled14 = os.path.normpath(os.path.join(repo, "configs", "energy", "scaled14.json"))
    base = resolve_paths(read_json(base_path), base_path)
    eg = resolve_paths(read_json(eg_path), eg_path)
    cfg_dir = os.path.join(out, "configs")
    os.makedirs(cfg_dir, exist_ok=True)

    rows = []  # each: id, label, config (dict), trace kind, base id, notes
    rows.append({"id": "0", "label": "baseline (eyeriss_v2_bp.json), BP trace", "config": base,
                 "trace": "bp", "base": "0", "applied": [], "skipped": [], "notes": []})
    cur = json.loads(json.dumps(base))
    for spec in ROWS:
        cfg = json.loads(json.dumps(cur))
        applied, skipped = [], []
        for path, value in spec["edits"]:
            if value == "SCALED14":
                value = scaled14
            shown = "configs/energy/scaled14.json" if value == scaled14 else json.dumps(value)
            (applied if set_if_present(cfg, path, value) else skipped).append(
                f"{dotted(path)} = {shown}")
        notes = []
        if skipped and applied:
            notes.append("partly applied: the base config has no " +
                         ", ".join(s.split(" = ")[0] for s in skipped))
        elif not applied:
            notes.append("no edit applies (the base config has no " +
                         ", ".join(s.split(" = ")[0] for s in skipped) +
                         "): equals the previous row")
        cfg["name"] = f"study_row{spec['id']}"
        rows.append({"id": spec["id"], "label": spec["label"], "config": cfg,
                     "trace": spec["trace"], "base": spec.get("base", "0"), "applied": applied,
                     "skipped": skipped, "notes": notes})
        cur = cfg

    # Row 4 should now be efficientgrad.json apart from the name (schema agreement).
    row4 = next(r for r in rows if r["id"] == "4")
    if canonical(row4["config"]) == canonical(eg):
        row4["notes"].append("equals efficientgrad.json")
    else:
        diffs = sorted(diff_keys(without_name(eg), without_name(row4["config"])))
        row4["notes"].append("differs from efficientgrad.json in " + ", ".join(diffs))

    extra = []  # configs run for reference or as a ratio base, not table rows of their own
    base14 = json.loads(json.dumps(base))
    base14["energy_table"] = scaled14
    base14["name"] = "study_row0_14nm"
    extra.append({"id": "0@14nm", "config": base14, "trace": "bp"})

    # Row 0b, for reference: the baseline with the other way of getting Wᵀ for the backward pass
    # (transposed addressing instead of the re-layout in DRAM, or the re-layout if the base
    # config already reads transposed), when this build knows "transposed_read".
    ref_rows = []
    base_fb = get_key(base, ("features", "feedback_source"))[0]
    other_fb = "transposed_dram" if base_fb == "transposed_read" else "transposed_read"
    tr = json.loads(json.dumps(base))
    tr["features"]["feedback_source"] = other_fb
    tr["name"] = "study_row0b"
    tr_path = os.path.join(cfg_dir, "row0b.json")
    write_files_atomic([(tr_path, json.dumps(tr, indent=1) + "\n")])
    tr_ok, tr_why = egsim_accepts(a.egsim, tr_path)
    tr_why = tr_why.replace(tr_path, "configs/row0b.json")  # the same tables in any folder
    if tr_ok:
        ref_rows.append({"id": "0b", "label": f"baseline with feedback_source {other_fb} "
                         "(reference, not cumulative)", "config": tr, "trace": "bp", "base": "0",
                         "applied": [f"features.feedback_source = \"{other_fb}\""],
                         "skipped": [], "notes": ["the baseline's other way of reading Wᵀ"]})
    else:
        os.remove(tr_path)
    eg = dict(eg, name="efficientgrad")

    # Write and validate every config, then give each simulation a key: the config's content
    # (without its name), the trace and the layer subset. Equal keys share one run.
    files, sims, all_entries = [], {}, []
    for r in rows + ref_rows + extra + [{"id": "eg", "config": eg, "trace": None}]:
        fname = "efficientgrad.json" if r["id"] == "eg" else \
            f"row{r['id'].replace('@', '_')}.json"
        r["config_file"] = os.path.join(cfg_dir, fname)
        files.append((r["config_file"], json.dumps(r["config"], indent=1) + "\n"))
        all_entries.append(r)
    write_files_atomic(files)
    for r in all_entries:
        ok, why = egsim_accepts(a.egsim, r["config_file"])
        if not ok:
            raise StudyError(f"derived config {r['config_file']} (row {r['id']}) is rejected by "
                             f"egsim: {why}")

    def sim_for(config_entry, kind, p):
        tname = trace_name(kind, p, a.settings)
        key = hashlib.sha256("\n".join([canonical(config_entry["config"]),
                                        referenced_files_digest(config_entry["config"]), tname,
                                        a.layers, a.sim_id]).encode()).hexdigest()[:16]
        sims.setdefault(key, {"config": config_entry["config_file"], "trace": tname})
        return key

    plan_rows = []
    for r in rows + ref_rows:
        p = ABLATION_P if r["trace"] == "eg" else 0.0
        plan_rows.append({"id": r["id"], "label": r["label"], "sim": sim_for(r, r["trace"], p),
                          "base": r["base"], "applied": r["applied"], "notes": r["notes"],
                          "reference": r in ref_rows})
    ratio_bases = {"0": plan_rows[0]["sim"], "0@14nm": sim_for(extra[0], "bp", 0.0)}
    eg_entry = all_entries[-1]
    p_rows = [{"p": p, "sim": sim_for(eg_entry, "eg", p)} for p in P_VALUES]
    traces = {trace_name("bp", 0.0, a.settings): {"mode": "bp", "p": 0.0}}
    for p in P_VALUES:
        traces[trace_name("eg", p, a.settings)] = {"mode": "efficientgrad", "p": p}
    plan = {"settings": a.settings, "describe": a.describe, "layers": a.layers,
            "rows": plan_rows, "ratio_bases": ratio_bases, "p_rows": p_rows, "sims": sims,
            "traces": traces, "pe_sparsity": get_key(base, ("pe", "sparsity"))[0],
            "transposed_read": tr_ok, "transposed_read_why": tr_why,
            "reference_feedback": other_fb}
    write_files_atomic([(os.path.join(out, PLAN_FILE), json.dumps(plan, indent=1) + "\n")])
    # The shell reads these lines: what to train, then what to simulate.
    lines = [f"train\t{n}\t{t['mode']}\t{t['p']:g}" for n, t in traces.items()]
    lines += [f"sim\t{k}\t{s['config']}\t{s['trace']}" for k, s in sims.items()]
    write_files_atomic([(os.path.join(out, "plan.tsv"), "\n".join(lines) + "\n")])


def diff_keys(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff_keys(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else k)
        return out
    return [] if a == b else [prefix]


# ---------------------------------------------------------------- tables
def load_report(out, key):
    path = os.path.join(out, "sim", key, "report.json")
    r = read_json(path)
    try:
        t = r["totals"]
        fig = {"cycles": float(t["cycles"]), "chip_power_mw": float(t["chip_power_mw"]),
               "power_mw": float(t["power_mw"]), "dram_power_mw": float(t["dram_power_mw"]),
               "energy_pj": float(t["energy_pj"]["total"]),
               "dram_bytes": float(t["dram"]["read_bytes"]) + float(t["dram"]["write_bytes"]),
               "phase_cycles": {ph: float(r["phases"][ph]["cycles"]) for ph in PHASES
                                if ph in r["phases"]},
               "macs_skipped": {ph: float(r["phases"][ph]["macs_skipped"]) for ph in PHASES
                                if ph in r["phases"]},
               "macs_issued": {ph: float(r["phases"][ph]["macs_issued"]) for ph in PHASES
                               if ph in r["phases"]}}
    except (KeyError, TypeError, ValueError) as e:
        raise StudyError(f"{path}: report lacks the field {e}")
    if fig["cycles"] <= 0:
        raise StudyError(f"{path}: /totals/cycles: must be > 0")
    return fig


def ratios(row, base):
    def div(a, b):
        return a / b if b > 0 else float("nan")
    return {"throughput": div(base["cycles"], row["cycles"]),
            "chip_power": div(row["chip_power_mw"], base["chip_power_mw"]),
            "total_power": div(row["power_mw"], base["power_mw"]),
            "energy": div(row["energy_pj"], base["energy_pj"])}


def dy_density(out, tname, layers):
    """Nonzero fraction of δ̂ over the conv and FC layers of a trace (element-weighted), from the
    manifest's per-layer statistics; restricted to the simulated layers."""
    m = read_json(os.path.join(out, "traces", tname, "manifest.json"))
    wanted = set(l for l in layers.split(",") if l) if layers else None
    num = den = 0.0
    for l in m.get("layers", []):
        if l.get("type") not in ("conv", "fc") or (wanted and l.get("name") not in wanted):
            continue
        n = 1.0
        for d in l.get("out", []):
            n *= d
        frac = l.get("stats", {}).get("dy_nonzero_fraction")
        if frac is None:
            continue
        num += n * float(frac)
        den += n
    return num / den if den > 0 else float("nan")


def fmt(x, digits=3):
    if x != x:  # NaN
        return "n/a"
    return f"{x:.{digits}f}"


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def csv_text(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def svg_chart(p_rows):
    """Throughput and chip-power ratios against P, with the paper's figures as dashed lines."""
    W, H, L, R, T, B = 640, 380, 60, 150, 20, 50
    ys = [v for r in p_rows for v in (r["throughput"], r["chip_power"]) if v == v]
    ymax = max(ys + [PAPER_THROUGHPUT, 1.0]) * 1.1
    x = lambda p: L + (W - L - R) * p
    y = lambda v: T + (H - T - B) * (1 - v / ymax)
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
         f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" '
         f'stroke="#444"/>']
    step = 0.5 if ymax <= 4 else 1.0
    v = 0.0
    while v <= ymax + 1e-9:
        grid = "#888" if abs(v - 1) < 1e-9 else "#ddd"  # 1x: no change against BP
        s.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{grid}"/>'
                 f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    for p in [0, 0.2, 0.4, 0.6, 0.8, 1.0]:
        s.append(f'<text x="{x(p):.1f}" y="{H - B + 16}" text-anchor="middle">{p:g}</text>')
    s.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">pruning rate P'
             f'</text><text x="16" y="{(T + H - B) / 2}" text-anchor="middle" '
             f'transform="rotate(-90 16 {(T + H - B) / 2})">ratio to BP on the baseline</text>')
    series = [("throughput", "#1f77b4", "throughput", PAPER_THROUGHPUT),
              ("chip_power", "#d62728", "chip power", PAPER_POWER)]
    for i, (key, colour, name, paper) in enumerate(series):
        shown = [r for r in p_rows if r[key] == r[key]]
        pts = [(x(r["p"]), y(r[key])) for r in shown]
        s.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="' +
                 " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        s += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"><title>P = {r["p"]:g}: '
              f'{name} {r[key]:.3f}×</title></circle>' for (a, b), r in zip(pts, shown)]
        s.append(f'<line x1="{L}" x2="{W - R}" y1="{y(paper):.1f}" y2="{y(paper):.1f}" '
                 f'stroke="{colour}" stroke-dasharray="6 4"/>')
        ly = T + 14 + 36 * i
        s.append(f'<line x1="{W - R + 10}" x2="{W - R + 30}" y1="{ly}" y2="{ly}" '
                 f'stroke="{colour}" stroke-width="2"/><text x="{W - R + 34}" y="{ly + 4}">'
                 f'{name}</text><line x1="{W - R + 10}" x2="{W - R + 30}" y1="{ly + 16}" '
                 f'y2="{ly + 16}" stroke="{colour}" stroke-dasharray="6 4"/>'
                 f'<text x="{W - R + 34}" y="{ly + 20}">paper {paper:g}×</text>')
    s.append("</svg>")
    return "\n".join(s)


def html_table(header, rows):
    e = html.escape
    return ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>" +
            "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
            + "</table>")


def cmd_tables(a):
    out = os.path.abspath(a.out)
    plan = read_json(os.path.join(out, PLAN_FILE))
    reports = {k: load_report(out, k) for k in plan["sims"]}
    bases = {name: reports[key] for name, key in plan["ratio_bases"].items()}

    # ---- ablation
    ab_header = ["row", "configuration", "cycles", "throughput ×", "chip power ×",
                 "total power ×", "energy ×", "DRAM bytes", "notes"]
    ab_csv_header = ["row", "configuration", "cycles", "throughput_ratio", "chip_power_ratio",
                     "total_power_ratio", "energy_ratio", "dram_bytes", "chip_power_mw",
                     "power_mw", "energy_pj", "ratio_base", "edits", "notes"]
    ab_md, ab_csv, ab = [], [], []
    for r in plan["rows"]:
        f = reports[r["sim"]]
        q = ratios(f, bases[r["base"]])
        base_note = [] if r["base"] == "0" else ["ratios against row 0 on the 14 nm table"]
        notes = "; ".join(r["notes"] + base_note)
        ab.append(dict(r, fig=f, q=q))
        ab_md.append([r["id"], r["label"], f"{f['cycles']:.0f}", fmt(q["throughput"]),
                      fmt(q["chip_power"]), fmt(q["total_power"]), fmt(q["energy"]),
                      f"{f['dram_bytes']:.0f}", notes])
        ab_csv.append([r["id"], r["label"], f"{f['cycles']:.0f}", repr(q["throughput"]),
                       repr(q["chip_power"]), repr(q["total_power"]), repr(q["energy"]),
                       f"{f['dram_bytes']:.0f}", repr(f["chip_power_mw"]), repr(f["power_mw"]),
                       repr(f["energy_pj"]), r["base"], "; ".join(r["applied"]), notes])

    # ---- P table
    base = bases["0"]
    p_header = ["P", "δ̂ density", "throughput ×", "chip power ×", "total power ×",
                "energy ×",
                "backward ×", "weight gradient ×", "DRAM bytes"]
    p_csv_header = ["p", "dy_density", "throughput_ratio", "chip_power_ratio",
                    "total_power_ratio", "energy_ratio", "backward_speedup",
                    "weight_gradient_speedup", "dram_bytes", "cycles"]
    p_md, p_csv, prow = [], [], []
    for r in plan["p_rows"]:
        f = reports[r["sim"]]
        q = ratios(f, base)
        dens = dy_density(out, trace_name("eg", r["p"], plan["settings"]), plan["layers"])
        sp = {ph: (base["phase_cycles"].get(ph, 0) / f["phase_cycles"][ph]
                   if f["phase_cycles"].get(ph) else float("nan"))
              for ph in ("backward", "weight_gradient")}
        prow.append(dict(p=r["p"], density=dens, sp=sp, fig=f, **q))
        p_md.append([f"{r['p']:g}", fmt(dens), fmt(q["throughput"]), fmt(q["chip_power"]),
                     fmt(q["total_power"]), fmt(q["energy"]), fmt(sp["backward"]),
                     fmt(sp["weight_gradient"]), f"{f['dram_bytes']:.0f}"])
        p_csv.append([f"{r['p']:g}", repr(dens), repr(q["throughput"]), repr(q["chip_power"]),
                      repr(q["total_power"]), repr(q["energy"]), repr(sp["backward"]),
                      repr(sp["weight_gradient"]), f"{f['dram_bytes']:.0f}",
                      f"{f['cycles']:.0f}"])

    scope = plan["describe"]
    ab_intro = (f"Cumulative ablation, {scope}. Each row is configs/hw/eyeriss_v2_bp.json with "
                f"the edits of the rows up to it (the derived configs are in configs/); ratios "
                f"are against row 0 (throughput = its cycles / the row's cycles: iterations per "
                f"second, the same work).\n\n")
    p_intro = (f"EfficientGrad on configs/hw/efficientgrad.json against BP on "
               f"configs/hw/eyeriss_v2_bp.json, {scope}. δ̂ density: nonzero fraction of the "
               f"error gradients of the conv/FC layers simulated; backward and weight-gradient "
               f"columns are those phases' speed-ups (cycles).\n\n")
    ab_after = ""
    if not plan["transposed_read"]:
        other = plan.get("reference_feedback", "transposed_read")
        ab_after = (f"\nRow 0b (baseline with feedback_source \"{other}\") is left out: this "
                    f"build's egsim rejects it ({plan['transposed_read_why']}).\n")
    ab_text = ab_intro + md_table(ab_header, ab_md) + ab_after
    p_text = p_intro + md_table(p_header, p_md)
    concl = conclusion(plan, ab, prow)
    page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>EfficientGrad study"
            "</title><style>body{font-family:sans-serif;max-width:1100px;margin:1em auto}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
            "padding:3px 8px;text-align:right}td:nth-child(2){text-align:left}"
            "</style></head><body>\n<h1>EfficientGrad's mechanisms: ablation and pruning rate"
            "</h1>\n<h2>Throughput and chip power against P</h2>\n" + svg_chart(prow) +
            f"\n<p>{html.escape(p_intro.strip())}</p>\n" + html_table(p_header, p_md) +
            f"\n<h2>Ablation</h2>\n<p>{html.escape(ab_intro.strip())}</p>\n" +
            html_table(ab_header, ab_md) + f"<p>{html.escape(ab_after.strip())}</p>" +
            "\n<h2>Conclusion</h2>\n<pre style=\"white-space:"
            "pre-wrap\">" + html.escape(concl) + "</pre>\n</body></html>\n")
    write_files_atomic([
        (os.path.join(out, "ablation.md"), ab_text),
        (os.path.join(out, "ablation.csv"), csv_text(ab_csv_header, ab_csv)),
        (os.path.join(out, "p_table.md"), p_text),
        (os.path.join(out, "p_table.csv"), csv_text(p_csv_header, p_csv)),
        (os.path.join(out, "study.html"), page),
        (os.path.join(out, "conclusion.md"), concl)])
    sys.stdout.write("== ablation\n" + ab_text + "\n== pruning rate\n" + p_text + "\n" + concl)


def conclusion(plan, ab, prow):
    by_id = {r["id"]: r for r in ab}
    head = next((r for r in prow if abs(r["p"] - ABLATION_P) < 1e-9), None)
    lines = ["# Conclusion", ""]
    lines.append(f"Workload: {plan['describe']}. Every config is the repository's with the "
                 f"row's edits; no field was tuned towards the paper's figures.")
    lines.append("")
    if head:
        tp, cp = head["throughput"], head["chip_power"]
        dir_t = (f"{tp:.2f}× > 1, so the direction of the paper's {PAPER_THROUGHPUT}× "
                 f"reproduces" if tp > 1 else
                 f"{tp:.2f}× ≤ 1, so the direction of the paper's {PAPER_THROUGHPUT}× does not "
                 f"reproduce")
        dir_p = (f"{cp:.2f}× < 1, so the direction of its {PAPER_POWER}× reproduces" if cp < 1
                 else f"{cp:.2f}× ≥ 1, so the direction of its {PAPER_POWER}× does not "
                 f"reproduce")
        lines.append(f"- Headline, EfficientGrad at P = {ABLATION_P:g} on efficientgrad.json "
                     f"against BP on eyeriss_v2_bp.json: throughput {tp:.2f}× (paper "
                     f"{PAPER_THROUGHPUT}×), chip power {cp:.2f}× (paper {PAPER_POWER}×), total "
                     f"power with DRAM {head['total_power']:.2f}×, energy {head['energy']:.2f}×.")
        lines.append(f"- Direction: throughput {dir_t}; chip power {dir_p}.")
        mag_t = (f"{100 * (tp - 1) / (PAPER_THROUGHPUT - 1):.0f}% of the paper's throughput "
                 f"gain (its {PAPER_THROUGHPUT - 1:.2f} above 1×)" if tp > 1 else
                 "no throughput gain")
        mag_p = (f"{100 * (1 - cp) / (1 - PAPER_POWER):.0f}% of its chip-power saving (its "
                 f"{1 - PAPER_POWER:.2f} below 1×)" if cp < 1 else
                 f"chip power {100 * (cp - 1):.0f}% above the baseline's instead of "
                 f"{100 * (1 - PAPER_POWER):.0f}% below it")
        lines.append(f"- Magnitude: the mechanisms give {mag_t}, and {mag_p}.")
        d = head["density"]
        if d == d and d > 0:
            lines.append(f"- At P = {ABLATION_P:g}, δ̂ density is {d:.3f} (at most {1 / d:.2f}× "
                         f"fewer MACs where δ̂ is the sparse operand); the backward phase runs "
                         f"{head['sp']['backward']:.2f}× and the weight gradient "
                         f"{head['sp']['weight_gradient']:.2f}× faster than BP's.")
    steps = []
    prev = by_id.get("0")
    for rid in ["1", "2", "3", "4", "5"]:
        r = by_id.get(rid)
        if not r or not prev:
            continue
        if rid == "5":  # same cycles, ratios now on the 14 nm baseline
            steps.append((rid, r, r["q"]["throughput"] / prev["q"]["throughput"],
                          r["q"]["chip_power"] / prev["q"]["chip_power"]))
        else:
            steps.append((rid, r, prev["fig"]["cycles"] / r["fig"]["cycles"],
                          r["fig"]["chip_power_mw"] / prev["fig"]["chip_power_mw"]))
        prev = r
    if steps:
        lines.append("- What each row buys (step against the row before: throughput ×, chip "
                     "power ×):")
        for rid, r, t, c in steps:
            same = " (no edit applied in this build)" if not r["applied"] else ""
            lines.append(f"  - row {rid}, {r['label']}: {t:.3f}×, {c:.3f}×{same}")
        up = [s[0] for s in steps if s[1]["applied"] and s[2] > 1.0005]
        down = [s[0] for s in steps if s[1]["applied"] and s[3] < 0.9995]
        lines.append(f"  - Rows that move throughput in the paper's direction (above 0.05%): "
                     f"{', '.join(up) or 'none'}; rows that lower chip power: "
                     f"{', '.join(down) or 'none'}.")
        real = [s for s in steps if s[1]["applied"] and s[0] != "5"]
        if real:
            bt = max(real, key=lambda s: s[2])
            bc = min(real, key=lambda s: s[3])
            lines.append(f"  - The largest throughput step is row {bt[0]} ({bt[2]:.3f}×); the "
                         f"largest chip-power step is row {bc[0]} ({bc[3]:.3f}×).")
    if "0b" in by_id:
        r = by_id["0b"]
        against = (f"; against it the headline throughput would be "
                   f"{head['throughput'] / r['q']['throughput']:.2f}×" if head else "")
        how = ("reading W with transposed addressing instead of the re-layout"
               if plan.get("reference_feedback") == "transposed_read" else
               "re-laying W out as Wᵀ in DRAM instead of reading it transposed")
        lines.append(f"- Reference: the baseline {how} (row 0b) runs "
                     f"{r['q']['throughput']:.3f}× the baseline's throughput at {r['q']['chip_power']:.3f}× its chip power{against}.")
    if len(prow) >= 2:
        lo, hi = prow[0], prow[-1]
        mono = all(b["throughput"] >= a["throughput"] for a, b in zip(prow, prow[1:]))
        lines.append(f"- Against P: throughput goes from {lo['throughput']:.2f}× at P = "
                     f"{lo['p']:g} to {hi['throughput']:.2f}× at P = {hi['p']:g} "
                     f"({'rising' if mono else 'not rising'} at every step); chip power from "
                     f"{lo['chip_power']:.2f}× to {hi['chip_power']:.2f}×.")
    lines += ["", "What the EfficientGrad paper leaves unstated that matching its figures would "
              "need:",
              "- the batch size behind 2.44× and 0.48× (the study's batch is a parameter);",
              "- the pruning rate P behind them (the study uses P = 0.9 and sweeps P);",
              "- the on-chip memory sizes: GLB banks, spads, the gradient buffer (the configs "
              "use Eyeriss v2's and documented assumptions);",
              "- the DRAM accounting: whether the power includes DRAM, which DRAM, and how the "
              "baseline gets Wᵀ for the backward pass (re-layout or transposed reads);",
              "- the process and leakage: the paper's chip is synthesised SMIC 14 nm at 500 MHz, "
              "with no per-block dynamic and leakage breakdown to compare against (the study "
              "uses scaled energy tables).", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan")
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--egsim", required=True)
    p.add_argument("--settings", required=True)
    p.add_argument("--sim-id", required=True)
    p.add_argument("--describe", required=True)
    p.add_argument("--layers", default="")
    t = sub.add_parser("tables")
    t.add_argument("--out", required=True)
    a = ap.parse_args()
    try:
        cmd_plan(a) if a.cmd == "plan" else cmd_tables(a)
    except StudyError as e:
        print(f"paper_study: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
