#!/usr/bin/env bash
# Checks that every system file a build read comes from a Debian package that scripts/setup.sh installs:
# one it lists, or one pulled in (transitively) by the Depends/Pre-Depends of a listed or Essential
# package. Recommends do not count (setup.sh installs with --no-install-recommends). Run it after a
# build; a green build on a machine with extra packages then cannot hide a missing install step.
#   usage: scripts/check_deps.sh [BUILD_DIR]   (default: build)
#          scripts/check_deps.sh --why PACKAGE [BUILD_DIR]   also print the Depends chain that pulls it in
# Files read, as the build recorded them:
#   - absolute paths in CMakeCache.txt and CMakeFiles/Makefile.cmake (every CMake file configure read);
#   - the compiler's dependency files (*.d, compiler_depend.make, depend.make): every header;
#   - link lines (link.txt): every library linked, with -lNAME resolved by the compiler.
# Each existing file under /usr (or /bin, /lib... which merged-/usr Debian maps into /usr) is mapped to
# its package with dpkg -S, following symlinks hop by hop: every hop that a package owns must be
# installed by setup.sh (a -dev package's libfoo.so and the runtime package's libfoo.so.N both count),
# and a file that no package owns is an error too (a hand-installed file is a missing install step).
# The dependency closure comes from dpkg's own status database, not from apt lists.
set -euo pipefail
cd "$(dirname "$0")/.."
why=""
if [ "${1:-}" = "--why" ]; then
  why="${2:?--why needs a package name}"
  shift 2
fi
build="${1:-build}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "check_deps: $build/CMakeCache.txt: no such file (build first, e.g. bash scripts/test.sh)" >&2
  exit 1
fi
packages=$(bash scripts/setup.sh --list)
exec python3 - "$build" "$packages" "$why" <<'PY'
import os, re, subprocess, sys

build, listed_text, why = sys.argv[1], sys.argv[2], sys.argv[3]
listed = listed_text.split()

# ---- 1. every path the build recorded -------------------------------------------------------------
paths = set()
abs_path = re.compile(r'(?<![\w.-])(/[^\s;"\'():=,]+)')

def take_abs(text):
    for m in abs_path.finditer(text):
        paths.add(m.group(1))

def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()

take_abs(read(os.path.join(build, 'CMakeCache.txt')))
makefile_cmake = os.path.join(build, 'CMakeFiles', 'Makefile.cmake')
if os.path.exists(makefile_cmake):
    take_abs(read(makefile_cmake))

link_lines = []
for root, dirs, files in os.walk(build):
    for name in files:
        full = os.path.join(root, name)
        if name.endswith('.d') or name in ('compiler_depend.make', 'depend.make'):
            # make syntax: "target: dep dep \" ; paths with spaces are escaped, none under /usr have them
            for token in read(full).replace('\\\n', ' ').split():
                token = token.rstrip(':')
                if token.startswith('/'):
                    paths.add(token)
        elif name == 'link.txt':
            link_lines.append(read(full))

cxx = None
libnames = set()
for line in link_lines:
    for token in line.split():
        for part in token.split(',') if token.startswith('-Wl,') else [token]:
            if part.startswith('/'):
                paths.add(part)
            elif part.startswith('-l') and len(part) > 2:
                libnames.add(part[2:])
        if cxx is None and token.startswith('/'):
            cxx = token  # the first word of a link line is the compiler driver
for lib in sorted(libnames):
    for suffix in ('.so', '.a'):
        out = subprocess.run([cxx or 'c++', '-print-file-name=lib%s%s' % (lib, suffix)],
                             capture_output=True, text=True).stdout.strip()
        if out.startswith('/') and os.path.exists(out):
            paths.add(os.path.normpath(out))
            break

# ---- 2. system files and the symlink hops that lead to them ----------------------------------------
SYSTEM = ('/usr/', '/bin/', '/sbin/', '/lib/', '/lib32/', '/lib64/', '/libx32/')

def is_system(p):
    return p.startswith(SYSTEM)

def hops(p):
    """p, then each symlink target in turn (relative targets resolved), then the real path."""
    out = [p]
    for _ in range(40):
        if not os.path.islink(p):
            break
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
        out.append(p)
    real = os.path.realpath(p)
    if real != out[-1]:
        out.append(real)
    return out

def aliases(p):
    """The names dpkg may know a merged-/usr file by: /usr/lib/x <-> /lib/x (also bin, sbin, lib64...)."""
    out = [p]
    for top in ('bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'):
        if p.startswith('/usr/%s/' % top):
            out.append(p[4:])
        elif p.startswith('/%s/' % top):
            out.append('/usr' + p)
    return out

files = {}  # file as the build recorded it -> list of system hops
for p in sorted(paths):
    p = os.path.normpath(p)
    if not is_system(p) or not os.path.isfile(p):
        continue
    files[p] = [h for h in hops(p) if is_system(h)]

# ---- 3. owners, from dpkg's file database ----------------------------------------------------------
queries = sorted({a for hs in files.values() for h in hs for a in aliases(h)})
owner = {}
CHUNK = 4000  # stay far below the kernel's argument-length limit
for i in range(0, len(queries), CHUNK):
    # exit status 1 just means some path is not owned; the rest are still listed
    res = subprocess.run(['dpkg-query', '-S'] + queries[i:i + CHUNK], capture_output=True, text=True)
    for line in res.stdout.splitlines():
        if line.startswith('diversion by'):
            continue
        pkgs, sep, path = line.partition(': ')
        if sep and path.startswith('/'):
            owner.setdefault(path, set()).update(x.strip().split(':')[0] for x in pkgs.split(','))

# ---- 4. what setup.sh installs: listed + Essential, closed under Depends/Pre-Depends ---------------
fmt = '${Package}\t${db:Status-Abbrev}\t${Essential}\t${Provides}\t${Depends}\t${Pre-Depends}\n'
db = subprocess.run(['dpkg-query', '-W', '-f=' + fmt], capture_output=True, text=True, check=True)
installed, providers, depends, essential = set(), {}, {}, []
for line in db.stdout.splitlines():
    name, status, ess, provides, dep, predep = (line.split('\t') + [''] * 6)[:6]
    if len(status) < 2 or status[1] != 'i':  # not unpacked and configured ("ii", "hi")
        continue
    installed.add(name)
    if ess == 'yes':
        essential.append(name)
    for prov in provides.split(','):
        prov = prov.split('(')[0].strip().split(':')[0]
        if prov:
            providers.setdefault(prov, set()).add(name)
    groups = depends.setdefault(name, [])
    for field in (dep, predep):
        for group in field.split(','):
            alts = [a.split('(')[0].strip().split(':')[0] for a in group.split('|')]
            alts = [a for a in alts if a]
            if alts:
                groups.append(alts)

def satisfiers(name):
    """Installed packages that satisfy a dependency on name: itself, and whatever provides it."""
    out = set(providers.get(name, ()))
    if name in installed:
        out.add(name)
    return out

missing_listed = [p for p in listed if p not in installed]
if missing_listed:
    print('check_deps: setup.sh lists %s, not installed here: run bash scripts/setup.sh first'
          % ' '.join(missing_listed), file=sys.stderr)
    sys.exit(1)

closure, parent = set(), {}
stack = [(p, None) for p in list(listed) + essential]
while stack:
    p, by = stack.pop()
    if p in closure:
        continue
    closure.add(p)
    parent[p] = by
    for alts in depends.get(p, ()):
        for a in alts:  # "a | b": whichever of them is installed counts
            stack.extend((s, p) for s in satisfiers(a) - closure)

if why:
    if why not in closure:
        print('check_deps: %s is not pulled in by scripts/setup.sh' % why)
    else:
        chain, p = [], why
        while p is not None:
            chain.append(p)
            p = parent[p]
        origin = 'listed in scripts/setup.sh' if chain[-1] in listed else 'Essential'
        print('check_deps: %s (%s)' % (' <- '.join(chain), origin))

# ---- 5. verdict: one line per package not installed by setup.sh, naming the files read from it ------
unlisted = {}  # package (or "a or b" for a file two packages share) -> files read from it
unowned = []
used = set()
for f, hs in files.items():
    owned_any = False
    for h in hs:
        pkgs = set()
        for a in aliases(h):
            pkgs |= owner.get(a, set())
        if not pkgs:
            continue
        owned_any = True
        if pkgs & closure:
            used |= pkgs & closure
        else:
            unlisted.setdefault(' or '.join(sorted(pkgs)), []).append(h if h == f else '%s (via %s)' % (h, f))
    if not owned_any:
        unowned.append(f)

SHOWN = 3  # files named per package; the count says how many more
for pkg, fs in sorted(unlisted.items()):
    fs = sorted(set(fs))
    more = ' and %d more' % (len(fs) - SHOWN) if len(fs) > SHOWN else ''
    print('check_deps: the build read %s%s from package %s, which scripts/setup.sh neither lists nor '
          'pulls in through Depends' % (', '.join(fs[:SHOWN]), more, pkg), file=sys.stderr)
for f in sorted(unowned):
    print('check_deps: the build read %s, which belongs to no Debian package (installed by hand?)' % f,
          file=sys.stderr)
if unlisted or unowned:
    sys.exit(1)
print('check_deps: %d system files the build read come from %d packages, all installed by '
      'scripts/setup.sh' % (len(files), len(used)))
PY
