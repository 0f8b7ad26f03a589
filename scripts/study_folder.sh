# Sourced by the study scripts (paper_study.sh, schemes_study.sh): their output folder is new,
# empty or marked as that script's, so a resumed study never overwrites a folder it did not make.
# The caller defines die() and sets $out, $marker_name (a file in the folder) and $marker_text.

# Refuses a file, a foreign marker, or a non-empty folder without the marker.
check_study_folder() {
  if [ -e "$out" ] && [ ! -d "$out" ]; then
    die "--out: $out exists and is not a folder"
  fi
  if [ -d "$out" ]; then
    if [ -f "$out/$marker_name" ]; then
      [ "$(head -n 1 "$out/$marker_name")" = "$marker_text" ] ||
        die "--out: $out/$marker_name is not this script's marker; give a new or empty folder"
    elif [ -n "$(ls -A "$out")" ]; then
      die "--out: $out is not empty and was not made by this script; give a new or empty folder"
    fi
  fi
}

# Creates the folder, makes $out absolute, marks it and holds its lock on descriptor 9 for the
# rest of the script (one study at a time per folder; the kernel releases it when we exit).
claim_study_folder() {
  mkdir -p "$out" 2>/dev/null || die "--out: cannot create $out"
  out=$(cd "$out" && pwd)
  [ -w "$out" ] || die "--out: $out is not writable"
  [ -f "$out/$marker_name" ] || echo "$marker_text" >"$out/$marker_name"
  exec 9<"$out/$marker_name"
  if command -v flock >/dev/null; then
    flock -n 9 || die "--out: $out is in use by another $(basename "$0")"
  fi
}
