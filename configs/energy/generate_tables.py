# Regenerates the energy tables in this folder from the published figures they cite (run with
# /usr/bin/python3). The JSON files are the source of truth the simulator reads; this script shows
# how every derived value was computed.
import json, math, collections
E = collections.OrderedDict
H = "Horowitz, 'Computing's energy problem', ISSCC 2014, 45 nm 0.9 V"
mac16 = 0.8 + 0.1  # 16x16 mult (4 x 8x8) + 32-bit add: Eyeriss's normalisation unit
rf_ref = mac16 / 16
def rf(size_bytes):
    return rf_ref * math.sqrt(size_bytes / 512.0)
def sram(size_kib):
    return 10.0 * math.sqrt(size_kib / 8.0) / 64.0
t = E()
t["mac_8x8_pj"] = (0.275, H + ": 8-bit mult 0.2 pJ + 24-bit psum add 0.075 pJ (interpolated between 16-bit add 0.05 and 32-bit add 0.1)")
t["mac_16x8_pj"] = (0.475, H + ": 16x8 mult 0.4 pJ (multiplier energy scales with operand-width product: 32x32 mult 3.1 pJ ~ 16 x the 8x8's 0.2 pJ, so 16x8 = 2 x 0.2) + 24-bit psum add 0.075 pJ")
t["zero_skip_pj"] = (0.05, H + ": one 16-bit comparison per zero operand stepped over, costed as a 16-bit add (0.05 pJ)")
def spad(name, entries, bits):
    size = entries * bits / 8
    v = round(rf(size), 5)
    s = ("Eyeriss (Chen et al., ISCA 2016/JSSC 2017) normalised RF access = 1 x a 16-bit MAC for a 0.5 KB RF; MAC16 = %.1f pJ from %s (16x16 mult 0.8 + 32-bit add 0.1), i.e. %.5f pJ/bit; scaled by sqrt(capacity/512 B) (SRAM energy ~ sqrt(capacity): Horowitz 8 KB 10 pJ -> 32 KB 20 pJ) for the %s spad of %d x %d b = %g B" % (mac16, H, rf_ref, name, entries, bits, size))
    return v, s
for name, entries, bits in [("iact", 16, 8), ("weight", 96, 8), ("feedback", 96, 8), ("psum", 32, 24)]:
    v, s = spad(name, entries, bits)
    t["spad_%s_read_pj_per_bit" % name] = (v, s)
    t["spad_%s_write_pj_per_bit" % name] = (v, s + "; write costed as a read (the normalised costs do not distinguish)")
noc = round(2 * mac16 / 16, 5)
for name in ["iact", "weight", "psum"]:
    t["noc_%s_pj_per_bit_hop" % name] = (noc, "Eyeriss normalised NoC transfer = 2 x a 16-bit MAC (%.1f pJ, %s) per 16-bit word and hop" % (mac16, H))
# GLB entries carry "bank_bytes", the capacity they are priced for; the simulator rescales them by
# sqrt(configured bank bytes / bank_bytes) to the hw config's banks when it loads the table.
rescaled = "; rescaled by sqrt(configured / bank_bytes) to the hw config's bank size at load time"
for name, kib in [("iact", 1.5), ("psum", 1.875), ("grad", 8.0)]:
    v = round(sram(kib), 5)
    s = H + ": 64-bit SRAM read 10 pJ at 8 KB, scaled by sqrt(capacity/8 KB) to a %g KiB bank (docs/DESIGN.md section 2%s), per bit%s" % (kib, "" if name != "grad" else "; the gradient bank is priced at Horowitz's 8 KB point", rescaled)
    bank = int(kib * 1024)
    t["glb_%s_read_pj_per_bit" % name] = (v, s, bank)
    t["glb_%s_write_pj_per_bit" % name] = (v, s + "; write costed as a read (Horowitz gives reads)", bank)
t["ppu_op_pj"] = (0.9, H + ": one post-processing element op (BN scale/shift, ReLU, add, pool, SGD step) costed as a 16-bit multiply-add (16x16 mult 0.8 + 32-bit add 0.1 pJ)")
idd = "DRAMSys JEDEC_8Gb_LPDDR4-3200_16bit memspec (JESD209-4 IDD values)"
t["dram_read_pj_per_bit"] = (8.0, "Accelergy/Timeloop LPDDR4 figure, 8 pJ/bit (array + I/O per bit read; consistent with VDD2 x (IDD4R - IDD3N) x burst time / bits ~ 5 pJ/bit core plus I/O from %s)" % idd)
t["dram_write_pj_per_bit"] = (8.0, "Accelergy/Timeloop LPDDR4 figure, 8 pJ/bit written")
t["dram_activate_pj"] = (2385.0, "ACT+PRE of one row on a x32 channel (two x16 dies): per die VDD2 x [(IDD0-IDD3N) x tRAS + (IDD0-IDD2N) x tRP] + the same on VDD1 (DRAMPower's E_act/E_pre) = 1192.5 pJ from " + idd)
t["dram_background_mw"] = (74.1, "active standby of a x32 channel (two x16 dies): VDD2 x IDD3N + VDD1 x IDD3N1 = 37.05 mW per die from " + idd + "; only counted when background power is enabled")

def write(path, name, desc, tab):
    d = E(); d["name"] = name; d["description"] = desc
    def entry(v, s, *bank):
        return E([("value", v), ("source", s)] + [("bank_bytes", b) for b in bank])
    d["entries"] = E((k, entry(*x)) for k, x in tab.items())
    with open(path, "w") as f:
        json.dump(d, f, indent=2); f.write("\n")

import os
base = os.path.dirname(os.path.abspath(__file__)) + "/"
write(base + "horowitz45.json", "horowitz45", "45 nm per-action energies (docs/DESIGN.md section 6 defaults): Horowitz ISSCC'14 for arithmetic and SRAM, Eyeriss normalised costs for register files and NoC, LPDDR4 at Accelergy's 8 pJ/bit. Units: pJ per action, per bit or per bit-hop as the key says; background power in mW.", t)
alt = E(t)
alt["dram_read_pj_per_bit"] = (20.3, H + ": DRAM 1.3-2.6 nJ per 64-bit access = 20.3-40.6 pJ/bit; lower end taken")
alt["dram_write_pj_per_bit"] = (20.3, H + ": DRAM 1.3-2.6 nJ per 64-bit access = 20.3-40.6 pJ/bit; lower end taken")
alt["dram_activate_pj"] = (0.0, "0: Horowitz's per-access DRAM figure already includes row activation; counting it again would double it")
write(base + "horowitz45_horowitz_dram.json", "horowitz45_horowitz_dram", "As horowitz45, but DRAM at Horowitz's ISSCC'14 per-access figure (20.3 pJ/bit, activation included) instead of LPDDR4's 8 pJ/bit.", alt)
f14 = (14.0 / 45.0) * (0.8 / 0.9) ** 2
s14 = E()
for k, (v, s, *bank) in t.items():
    if k.startswith("dram_"):
        s14[k] = (v, s + " (off-chip DRAM does not scale with the accelerator's logic node: unchanged)")
    else:
        s14[k] = (round(v * f14, 6), "horowitz45 value x %.4f: first-order C V^2 scaling from 45 nm/0.9 V to 14 nm/0.8 V (C ~ feature size 14/45, V^2 ratio (0.8/0.9)^2); Stillmaker & Baas (Integration 2017) show such classical factors can be off by 2x or more below 22 nm, so treat as an estimate. Base: %s" % (f14, s), *bank)
write(base + "scaled14.json", "scaled14", "horowitz45 scaled to 14 nm FinFET at 0.8 V by C V^2 (factor %.4f on every on-chip entry); DRAM entries unchanged." % f14, s14)

