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
t["mac_10x4_pj"] = (0.2, H + ": E2-Train PSG predictor MAC, 10-bit error gradient x 4-bit activation: mult 0.125 pJ (multiplier energy ~ operand-width product, the 'approximately quadratic function of precision' E2-Train (Wang et al., NeurIPS 2019) assumes: 0.2 pJ x 40/64 for the 8x8's 0.2 pJ) + the same 24-bit psum add 0.075 pJ")
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

# Leakage power (mW) per block instance or unit of capacity. Energy = leakage power of every block
# x the time the chip runs (no power gating is modelled), charged to the "leakage" component.
# Logic and registers: Aladdin's TSMC 40 nm (40G) standard-cell figures at a 2 ns clock (500 MHz,
# the configs' clock), common/power_func.h of Shao et al., 'Aladdin', ISCA 2014: 32-bit multiplier
# 2.1248e-2 mW, 32-bit adder 1.7153e-3 mW, one register bit 5.3278e-5 mW. 40 nm is taken for the
# 45 nm table as it is (the nearest node with published per-cell leakage; an estimate). Narrower
# units are scaled as the dynamic entries are: multiplier ~ operand-width product, adder ~ width.
A = "Shao et al., 'Aladdin', ISCA 2014, common/power_func.h: TSMC 40 nm (40G) cells at 2 ns"
mul32, add32, reg = 2.1248e-2, 1.7153e-3, 5.3278e-5
lane = mul32 * (16 * 8) / (32 * 32) + add32 * 24 / 32 + reg * (16 + 8 + 24)
t["leak_mac_lane_mw"] = (round(lane, 7), A + ": one SIMD MAC lane = 16x8 multiplier (32-bit multiplier 2.1248e-2 mW x 16*8/(32*32)) + 24-bit psum adder (32-bit adder 1.7153e-3 mW x 24/32) + 48 pipeline register bits (16 + 8 operand + 24 product) at 5.3278e-5 mW each")
t["leak_spad_mw_per_bit"] = (reg, A + ": one register bit 5.3278e-5 mW; PE scratchpads are register files (Eyeriss, Chen et al., JSSC 2017), so each spad bit is costed as a flip-flop")
t["leak_noc_mw_per_link_bit"] = (round(4 * reg, 7), A + ": one register bit 5.3278e-5 mW; assumption: a router holds one flit per port on 4 ports (Eyeriss v2 routers have 4 source and 4 destination ports; Chen et al., JETCAS 2019), so 4 register bits per link bit; multiplexers and arbiters not counted")
ppu_lane = mul32 * (16 * 16) / (32 * 32) + add32
t["leak_ppu_lane_mw"] = (round(ppu_lane, 7), A + ": one PPU element lane = 16x16 multiplier (32-bit multiplier 2.1248e-2 mW x 1/4) + 32-bit adder 1.7153e-3 mW, the multiply-add ppu_op_pj prices")
# GLB SRAM: CACTI 7 (HewlettPackard/cacti, Balasubramonian et al., TACO 2017) run for the
# configs' banks as single-port "ram" with 64-bit words, 1 bank, 300 K, ITRS high-performance
# cells and periphery (itrs-hp: 1.0 V at 45 nm, 0.8 V at 22 nm, the device type whose supply is
# nearest the 0.9 V / 0.8 V the dynamic entries assume), subthreshold + gate leakage per bank:
# 45 nm: 1536 B 0.851032 + 0.0724847, 1920 B 1.05187 + 0.0866527, 4096 B 2.58433 + 0.179417 mW;
# 22 nm: 1536 B 0.173599 + 0.00156267, 1920 B 0.214768 + 0.0018881, 4096 B 0.423337 + 0.00367098.
# Per KiB: one cluster's 3 x 1536 + 4 x 1920 + 1 x 4096 B = 16 KiB of banks.
def cluster_kib(b1536, b1920, b4096):
    return (3 * b1536 + 4 * b1920 + b4096) / 16.0
glb45 = cluster_kib(0.851032 + 0.0724847, 1.05187 + 0.0866527, 2.58433 + 0.179417)
glb22 = cluster_kib(0.173599 + 0.00156267, 0.214768 + 0.0018881, 0.423337 + 0.00367098)
C = "CACTI 7 (Balasubramonian et al., ACM TACO 2017), single-port RAM, 64-bit word, 1 bank, 300 K, itrs-hp cells and periphery (1.0 V at 45 nm), subthreshold + gate leakage"
t["leak_glb_mw_per_kib"] = (round(glb45, 6), C + ": 45 nm banks of 1536 B 0.9235, 1920 B 1.1385, 4096 B 2.7637 mW; one cluster's 3 x 1536 + 4 x 1920 + 4096 B = 16 KiB leak %.4f mW, i.e. per KiB. itrs-lop cells give ~1/18 of this (0.076 vs 1.409 mW for 2 KiB), itrs-lstp ~1/10^4: the device type is an assumption" % (16 * glb45))

def write(path, name, desc, tab):
    d = E(); d["name"] = name; d["description"] = desc
    def entry(v, s, *bank):
        return E([("value", v), ("source", s)] + [("bank_bytes", b) for b in bank])
    d["entries"] = E((k, entry(*x)) for k, x in tab.items())
    with open(path, "w") as f:
        json.dump(d, f, indent=2); f.write("\n")

import os
base = os.path.dirname(os.path.abspath(__file__)) + "/"
write(base + "horowitz45.json", "horowitz45", "45 nm per-action energies (docs/DESIGN.md section 6 defaults): Horowitz ISSCC'14 for arithmetic and SRAM, Eyeriss normalised costs for register files and NoC, LPDDR4 at Accelergy's 8 pJ/bit; leakage from Aladdin's 40 nm cells and CACTI 7's 45 nm SRAM. Units: pJ per action, per bit or per bit-hop as the key says; background and leakage power in mW.", t)
alt = E(t)
alt["dram_read_pj_per_bit"] = (20.3, H + ": DRAM 1.3-2.6 nJ per 64-bit access = 20.3-40.6 pJ/bit; lower end taken")
alt["dram_write_pj_per_bit"] = (20.3, H + ": DRAM 1.3-2.6 nJ per 64-bit access = 20.3-40.6 pJ/bit; lower end taken")
alt["dram_activate_pj"] = (0.0, "0: Horowitz's per-access DRAM figure already includes row activation; counting it again would double it")
write(base + "horowitz45_horowitz_dram.json", "horowitz45_horowitz_dram", "As horowitz45, but DRAM at Horowitz's ISSCC'14 per-access figure (20.3 pJ/bit, activation included) instead of LPDDR4's 8 pJ/bit.", alt)
f14 = (14.0 / 45.0) * (0.8 / 0.9) ** 2
s14 = E()
# Leakage at 14 nm / 0.8 V: leakage power per device ~ Vdd x I_off per um of width x width, and
# width ~ feature size. CACTI 7's ITRS device tables (tech_params/45nm.dat, 22nm.dat, hp at 300 K):
# 45 nm 1.0 V, I_off 2.8e-7 A/um; 22 nm 0.8 V, I_off 1.216e-7 A/um (CACTI's smallest node); from
# 22 to 14 nm I_off per um is held and only the width shrinks (14/22): an extrapolation.
leak14 = (0.8 * 1.216e-7 * 22) / (1.0 * 2.8e-7 * 45) * (14.0 / 22.0)
glb14 = glb22 * 14.0 / 22.0
for k, (v, s, *bank) in t.items():
    if k == "leak_glb_mw_per_kib":
        s14[k] = (round(glb14, 6), C.replace("(1.0 V at 45 nm)", "(0.8 V at 22 nm)") + ": 22 nm (CACTI's smallest node) banks of 1536 B 0.1752, 1920 B 0.2167, 4096 B 0.4270 mW; one cluster's 16 KiB leak %.4f mW, i.e. %.6f mW per KiB at 22 nm; x 14/22 (cell width ~ feature size, I_off per um held) to 14 nm, an extrapolation" % (16 * glb22, glb22))
        continue
    if k.startswith("leak_"):
        s14[k] = (round(v * leak14, 8), "horowitz45 value x %.4f: leakage per device ~ Vdd x I_off per um x width; CACTI 7 ITRS hp devices at 300 K: 45 nm 1.0 V 2.8e-7 A/um, 22 nm 0.8 V 1.216e-7 A/um (ratio with width 22/45: %.4f), then x 14/22 for the width at 14 nm with I_off per um held: an extrapolation. Base: %s" % (leak14, leak14 * 22.0 / 14.0, s))
        continue
    if k.startswith("dram_"):
        s14[k] = (v, s + " (off-chip DRAM does not scale with the accelerator's logic node: unchanged)")
    else:
        s14[k] = (round(v * f14, 6), "horowitz45 value x %.4f: first-order C V^2 scaling from 45 nm/0.9 V to 14 nm/0.8 V (C ~ feature size 14/45, V^2 ratio (0.8/0.9)^2); Stillmaker & Baas (Integration 2017) show such classical factors can be off by 2x or more below 22 nm, so treat as an estimate. Base: %s" % (f14, s), *bank)
write(base + "scaled14.json", "scaled14", "horowitz45 scaled to 14 nm FinFET at 0.8 V: C V^2 (factor %.4f) on every on-chip dynamic entry; leakage from CACTI 7's 22 nm devices extrapolated to 14 nm; DRAM entries unchanged." % f14, s14)

