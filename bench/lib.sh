# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, after `cd` to the repository root): the release
# binary, waiting for a server, reading JSON fields, CPU ticks, medians and spreads.

# Build target/release/maiimg unless NO_BUILD is set, and set BIN (BIN=/abs/path: another).
release_binary() {
  if [[ -z ${NO_BUILD:-} ]]; then
    echo "== build (release)"
    cargo build --release --quiet
  fi
  BIN=${BIN:-$PWD/target/release/maiimg}
  [[ -x $BIN ]] || { echo "build first (cargo build --release), or set BIN" >&2; exit 1; }
}

wait_http() { # url: wait up to 20 s for a 200
  for _ in $(seq 200); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]]; then return 0; fi
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

json_field() { # key < json: the first string or number value of "key"
  sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n1
}

cpu_ticks() { # pids… → user + system CPU ticks of those processes (all their threads)
  local pid total=0
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

# Numbers, one per line, on standard input.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
spread() { sort -g | awk '{v[NR] = $1} END {printf "%s-%s", v[1], v[NR]}'; }
