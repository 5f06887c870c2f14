#!/usr/bin/env bash
# Memory per gallery in the server's in-memory gallery cache (src/store/cache.rs, at most
# 10,000 galleries): the release server's RSS before and after its cache takes N galleries,
# for galleries of 1 image and of 25. See docs/scaling.md.
#
# For each size, on a fresh server (files on disk, the defaults otherwise):
#   1. create N galleries of a small JPEG (1 or 25 copies: the record holds one entry per
#      image whatever its bytes), and one more; restart the server on that data (a fresh
#      process: creating leaves freed memory the allocator returns at its own pace), then
#      open the extra one, so the first-use costs (thread caches, Rocket's and redb's
#      first pages) are behind us;
#   2. RSS, then HEAD /g/<id> of each gallery: loads its record into the cache, counts
#      nothing (no write); RSS again: the difference ÷ N is a gallery in the cache, with
#      the database pages its read brought into redb's own cache (an upper bound);
#   3. GET /g/<id> of each as a new viewer (an open counted: ticket, access log, counters);
#      RSS again: what counted opens add on top (the recorder, redb's written pages);
#   4. HEAD of each again: nothing more should stay.
# RSS is VmRSS from /proc/<pid>/status; the allocator (mimalloc) keeps what it frees, so
# figures are what the process holds, not what the cache alone would need.
#
# Knobs: N1 (2000 galleries of 1 image), N25 (400 of 25 images), NO_BUILD=1, BIN=/abs/path,
# KEEP=1, PORTS (9100-9199).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
N1=${N1:-2000}
N25=${N25:-400}
PORTS=${PORTS:-9100-9199}
for tool in curl awk vips xargs; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y curl libvips-tools" >&2; exit 1; }
done
while read -r var; do unset "$var"; done < <(compgen -e | grep '^MAIIMG_' || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-memory.XXXXXX")
server_pid=''
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "temp files: $work${KEEP:+ (kept)}"

release_binary

free_port() {
  local lo=${PORTS%-*} hi=${PORTS#*-} p
  for p in $(seq "$lo" "$hi"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port in $PORTS" >&2
  return 1
}
start_server() { # dir port → server_pid
  (cd "$1" && exec env MAIIMG_ADDRESS=127.0.0.1 MAIIMG_PORT="$2" MAIIMG_DATA_DIR="$1/data" \
    MAIIMG_LOG_LEVEL=off MAIIMG_RATE_LIMIT_GALLERIES_PER_HOUR=0 MAIIMG_RATE_LIMIT_UPLOADS_PER_HOUR=0 \
    "$BIN" serve) >>"$1/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$2/healthz" && return; sleep 0.1; done
  echo "the server did not start" >&2
  return 1
}
stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=''
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }

# A small photo-like JPEG (a gradient with noise), 640x480.
vips xyz "$work/xy.v" 640 480
vips gaussnoise "$work/n.v" 640 480 --sigma 30 --mean 128 --seed 3
vips bandjoin "$work/xy.v $work/n.v" "$work/rgb.v"
vips cast "$work/rgb.v" "$work/u8.v" uchar
vips copy "$work/u8.v" "$work/srgb.v" --interpretation srgb
vips jpegsave "$work/srgb.v" "$work/small.jpg" --Q 85
rm -f "$work"/*.v

# Runs per size: "images n rss_created rss_cached rss_opened rss_again" in $work/results.
: >"$work/results"
measure() { # images n
  local images=$1 n=$2 port dir=$work/size-$1 form=() i
  for ((i = 0; i < images; i++)); do form+=(-F "file=@$work/small.jpg;type=image/jpeg"); done
  port=$(free_port)
  mkdir -p "$dir"
  start_server "$dir" "$port"
  local base=http://127.0.0.1:$port
  echo "== $n galleries of $images image(s) on port $port"
  # shellcheck disable=SC2016 # expanded by the inner bash
  # (echo: the answer has no final newline, and sed would keep it that way)
  seq "$((n + 1))" | xargs -P 2 -I{} bash -c '{ curl -sf -F title=g "${@:2}" "$1/api/galleries"; echo; } |
    sed -n "s/.*\"id\":\"\([^\"]*\)\".*/\1/p"' _ "$base" "${form[@]}" >"$dir/ids"
  [[ $(wc -l <"$dir/ids") -eq $((n + 1)) ]] || { echo "only $(wc -l <"$dir/ids") galleries created" >&2; exit 1; }
  # A fresh process on the same data: creating left the allocator holding freed memory
  # that it returns at its own pace, which would swamp the figures.
  stop_server
  start_server "$dir" "$port"
  local first
  first=$(head -n1 "$dir/ids")
  curl -sf -o /dev/null "$base/g/$first"
  curl -sf -o /dev/null -I "$base/g/$first"
  tail -n +2 "$dir/ids" >"$dir/measured"
  sleep 1
  local r0 r1 r2 r3
  r0=$(rss_kib)
  # One curl per request would take minutes: curl reads many URLs from one config file.
  sed "s|.*|url = \"$base/g/&\"\noutput = /dev/null|" "$dir/measured" >"$dir/head.cfg"
  curl -sf -I -K "$dir/head.cfg" >/dev/null
  sleep 1
  r1=$(rss_kib)
  curl -sf -K "$dir/head.cfg" >/dev/null # GET: each a new viewer (curl sends no cookie)
  sleep 2 # the recorder's last commit
  r2=$(rss_kib)
  curl -sf -I -K "$dir/head.cfg" >/dev/null
  sleep 1
  r3=$(rss_kib)
  echo "$images $n $r0 $r1 $r2 $r3" >>"$work/results"
  printf '  RSS %d MiB after creating; +%d KiB cached (HEAD each); +%d KiB after an open of each; +%d KiB after HEAD again\n' \
    $((r0 / 1024)) $((r1 - r0)) $((r2 - r1)) $((r3 - r2))
  stop_server
}
measure 1 "$N1"
measure 25 "$N25"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), maiimg $commit, release build, files on disk"
printf '%-10s %7s %13s %16s %18s\n' images galleries 'RSS MiB' 'cached B/gallery' 'opened +B/gallery'
while read -r images n r0 r1 r2 _r3; do
  printf '%-10s %7s %13s %16s %18s\n' "$images" "$n" $((r0 / 1024)) $(((r1 - r0) * 1024 / n)) $(((r2 - r1) * 1024 / n))
done <"$work/results"
echo "cache capacity: 10,000 galleries (src/store/cache.rs)"
