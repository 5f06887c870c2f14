#!/usr/bin/env bash
# HEIC ingest against Debian's libvips (which decodes HEIC with libheif + libde265), side by
# side in one run: CPU time per image for both renditions (thumb 480, display 2048), then
# the server's peak RSS (VmHWM) while a gallery of 25 twelve-megapixel HEICs is created.
#
# Knobs: RUNS (5), COPIES (5 images per timed process: start-up amortised), HEIF_DIR
# (../shared/testdata/realworld/heif), FILES (the two iPhone HEICs), BENCH_PROFILE (release;
# `dev` is the test build: dependencies optimised, our crate not), NO_BUILD=1.
# Needs: vipsthumbnail with HEIF (apt-get install libvips-tools libheif-plugin-libde265 on
# Debian 13; Debian 12's libheif1 carries libde265 itself), GNU time, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
COPIES=${COPIES:-5}
HEIF_DIR=${HEIF_DIR:-../shared/testdata/realworld/heif}
FILES=${FILES:-"IMG_5195.HEIC iphone_13_pro_max.HEIC"}
BENCH_PROFILE=${BENCH_PROFILE:-release}
target_dir=$([[ $BENCH_PROFILE == dev ]] && echo debug || echo release)

for tool in vipsthumbnail /usr/bin/time curl awk python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[[ -d $HEIF_DIR ]] || { echo "SKIPPED: $HEIF_DIR is missing" >&2; exit 0; }

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-heif.XXXXXX")
server_pid=''
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -z ${NO_BUILD:-} ]]; then
  echo "== build ($BENCH_PROFILE)"
  cargo build --quiet --profile "$BENCH_PROFILE" --bin maiimg
  cargo bench --quiet --profile "$BENCH_PROFILE" --bench ingest --no-run
fi
exe=$(find "target/$target_dir/deps" -maxdepth 1 -type f -executable -name 'ingest-*' -printf '%T@ %p\n' |
  sort -n | tail -n1 | cut -d' ' -f2)
[[ -x $exe && -x target/$target_dir/maiimg ]] || { echo "build first" >&2; exit 1; }

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
spread() { sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.0f–%.0f", lo, hi}'; }
# CPU seconds (user + system) of a command, all its threads.
cpu() { /usr/bin/time -f '%U %S' -o "$work/time" "$@" >/dev/null 2>&1; awk '{print $1 + $2}' "$work/time"; }

export VIPS_CONCURRENCY=1
printf '\n%-26s %11s %11s %7s %13s %13s\n' "CPU per image, both sizes" "maiimg ms" "vips ms" "ratio" "maiimg range" "vips range"
for f in $FILES; do
  dir="$work/$f.d"
  mkdir -p "$dir" "$work/vips"
  for i in $(seq 1 "$COPIES"); do ln -sf "$(realpath "$HEIF_DIR/$f")" "$dir/$i.heic"; done
  : >"$work/ours" ; : >"$work/theirs"
  for _ in $(seq 1 "$RUNS"); do
    # The helper ingests one untimed warm-up image, then every file: COPIES + 1 ingests.
    cpu "$exe" ingest "$dir" --ext heic |
      awk -v n="$COPIES" '{printf "%.1f\n", $1 * 1000 / (n + 1)}' >>"$work/ours"
    t=$(cpu vipsthumbnail --size 480 -o "$work/vips/%s_t.jpg[Q=80,strip,subsample_mode=on]" "$dir"/*.heic)
    d=$(cpu vipsthumbnail --size 2048 -o "$work/vips/%s_d.jpg[Q=80,strip,subsample_mode=on]" "$dir"/*.heic)
    awk -v t="$t" -v d="$d" -v n="$COPIES" 'BEGIN {printf "%.1f\n", (t + d) * 1000 / n}' >>"$work/theirs"
  done
  ours=$(median <"$work/ours"); theirs=$(median <"$work/theirs")
  printf '%-26s %11.0f %11.0f %6.2fx %13s %13s\n' "$f" "$ours" "$theirs" \
    "$(awk -v a="$ours" -v b="$theirs" 'BEGIN {print a / b}')" "$(spread <"$work/ours")" "$(spread <"$work/theirs")"
done
echo "(medians of $RUNS runs, $COPIES images per process; goal: maiimg <= 1.5x vips)"

echo
echo "== peak RSS: one gallery of 25 12-megapixel HEICs (iphone_13_pro_max.HEIC)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/data"
env -u MAIIMG_CONFIG MAIIMG_ADDRESS=127.0.0.1 MAIIMG_PORT="$port" MAIIMG_DATA_DIR="$work/data" \
  MAIIMG_LOG_LEVEL=critical MAIIMG_RATE_LIMIT_UPLOADS_PER_HOUR=0 \
  "target/$target_dir/maiimg" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
args=()
for i in $(seq -w 1 25); do args+=(-F "file=@$HEIF_DIR/iphone_13_pro_max.HEIC;filename=IMG_00$i.HEIC"); done
t0=$(date +%s.%N)
code=$(curl -s -o "$work/answer" -w '%{http_code}' --max-time 900 "${args[@]}" "http://127.0.0.1:$port/api/galleries")
elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
hwm=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status")
echo "answer $code in $elapsed s; server VmHWM $hwm MiB (goal <= 512 MiB)"
