#!/usr/bin/env bash
# Ingest benchmark: our ingest vs sharp (in-process, one thread) and vipsthumbnail, upright
# and EXIF-rotated photos, rendition bytes, "last byte → link" and the server's peak RSS, in
# one run. See bench/README.md. Knobs: N (photos, 25), REPS (timing reps of each tool and
# server runs per flow, 3), PHOTOS (reuse a directory of *.jpg), PROFILE=1 (stage
# breakdown), RATE (curl --limit-rate per upload connection, e.g. 12M; default: loopback,
# unthrottled), NO_BUILD=1 (use the binaries already built), CARGO_TARGET_DIR (where they
# are), BENCH_EXE (the ingest bench binary to time), SHARP_DIR (a directory where `npm install sharp@0.33` already ran; default: installed
# into the temp folder), ROTATED (reuse a directory of the EXIF-6 photos), NO_SERVER=1 (skip
# the two upload flows).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-25}
REPS=${REPS:-3}
PARALLEL=3 # the web UI's upload concurrency (assets/upload.js)

for tool in vipsthumbnail vipsheader curl awk node npm; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y libvips-tools curl nodejs npm" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-bench.XXXXXX")
server_pid=''
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
echo "temp files: $work (kept after the run)"

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
maxof() { sort -g | tail -n1; }
sumcol() { awk -v c="$1" '!/^#/ {s+=$c} END {print s}' "$2"; }

if [[ -z ${NO_BUILD:-} ]]; then
  echo "== build (release)"
  [[ -n ${NO_SERVER:-} ]] || cargo build --release --quiet
  cargo bench --quiet --bench ingest --no-run
fi
target=${CARGO_TARGET_DIR:-target}
bench_exe=${BENCH_EXE:-$(find "$target/release/deps" -maxdepth 1 -type f -executable -name 'ingest-*' -printf '%T@ %p\n' |
  sort -n | tail -n1 | cut -d' ' -f2)}
server_exe=$(realpath -m "$target/release/maiimg")
[[ -x $bench_exe && ( -n ${NO_SERVER:-} || -x $server_exe ) ]] || { echo "build first (cargo build --release)" >&2; exit 1; }
bench() { "$bench_exe" "$@"; }

photos=${PHOTOS:-$work/photos}
if [[ -z ${PHOTOS:-} ]]; then
  echo "== making $N photo-like 4000x3000 JPEGs"
  bench make "$photos" "$N" 2>&1 | tail -n1
fi
mapfile -t files < <(printf '%s\n' "$photos"/*.jpg | sort)
n=${#files[@]}
rotated=${ROTATED:-$work/rotated}
if [[ -z ${ROTATED:-} ]]; then
  echo "== making $n of the same photos with EXIF orientation 6 (a phone held upright)"
  bench make "$rotated" "$n" --orientation 6 2>&1 | tail -n1
fi
mapfile -t rfiles < <(printf '%s\n' "$rotated"/*.jpg | sort)

echo "== sharp 0.33 (npm; prebuilt libvips with mozjpeg)"
sharp_dir=${SHARP_DIR:-$work/sharp}
if [[ ! -d $sharp_dir/node_modules/sharp ]]; then
  mkdir -p "$sharp_dir"
  npm install --prefix "$sharp_dir" --no-audit --no-fund --loglevel=error sharp@0.33 >/dev/null
fi
# In-process, one thread: both sizes from the file's bytes (read before the clock starts, as
# our bench does), q80 4:2:0, auto-rotated, metadata dropped (sharp's default).
cat >"$work/sharp.js" <<'JS'
const [dir, out] = process.argv.slice(2);
const fs = require('fs'), path = require('path');
const sharp = require(path.join(process.env.SHARP_DIR, 'node_modules', 'sharp'));
sharp.concurrency(1);
sharp.cache(false);
const files = fs.readdirSync(dir).filter(f => f.endsWith('.jpg')).sort();
const jpeg = { quality: 80, chromaSubsampling: '4:2:0' };
const render = (bytes, edge) => sharp(bytes).rotate()
  .resize(edge, edge, { fit: 'inside', withoutEnlargement: true }).jpeg(jpeg).toBuffer();
(async () => {
  fs.mkdirSync(out, { recursive: true });
  await render(fs.readFileSync(path.join(dir, files[0])), 480); // warm-up, untimed
  const times = [];
  for (const f of files) {
    const bytes = fs.readFileSync(path.join(dir, f));
    const t0 = process.hrtime.bigint();
    const thumb = await render(bytes, 480);
    const display = await render(bytes, 2048);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    times.push(ms);
    const s = f.replace(/\.jpg$/, '');
    fs.writeFileSync(path.join(out, s + '_thumb.jpg'), thumb);
    fs.writeFileSync(path.join(out, s + '_display.jpg'), display);
    console.log(`${s}\t${ms.toFixed(1)}\t${thumb.length}\t${display.length}`);
  }
  console.log(`#mean_ms\t${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(1)}`);
})();
JS
export SHARP_DIR=$sharp_dir UV_THREADPOOL_SIZE=1 VIPS_CONCURRENCY=1
node -e "const s=require(process.env.SHARP_DIR+'/node_modules/sharp'); console.log('  sharp', s.versions.sharp, 'libvips', s.versions.vips, 'mozjpeg', s.versions.mozjpeg || '?')"

vopts='[Q=80,strip,subsample_mode=on]'
mkdir -p "$work/vips" "$work/vips-opt" "$work/vips-rot"
now() { date +%s%N; }
ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", (b - a) / 1e6}'; }
vips black "$work/tiny.jpg" 16 16
startup_ms=$(for _ in 1 2 3 4 5; do t0=$(now); vipsthumbnail "$work/tiny.jpg" --size 8 -o "$work/tiny_out.jpg"; ms_since "$t0"; echo; done | median)
vipsthumbnail "${files[0]}" --size 480 -o "$work/warmup.jpg$vopts" # page cache, dynamic loading
# One vipsthumbnail process per size over all files (start-up amortised), total ÷ photos.
vips_batch() { # $1 output dir, then the files; prints ms per image (both sizes)
  local out=$1 t0 a b; shift
  t0=$(now); vipsthumbnail --size 480 -o "$out/%s_thumb.jpg$vopts" "$@"; a=$(ms_since "$t0")
  t0=$(now); vipsthumbnail --size 2048 -o "$out/%s_display.jpg$vopts" "$@"; b=$(ms_since "$t0")
  awk -v a="$a" -v b="$b" -v n="$#" 'BEGIN {printf "%.1f %.1f %.1f\n", (a + b) / n, a / n, b / n}'
}

# Each tool in turn, REPS times, upright then rotated; the figures are medians over reps.
: >"$work/reps.tsv"
for rep in $(seq "$REPS"); do
  echo "== rep $rep/$REPS: ours, sharp, vipsthumbnail (one thread each), upright and rotated"
  bench ingest "$photos" --out "$work/ours-$rep" ${PROFILE:+--profile} >"$work/ours-$rep.tsv"
  bench ingest "$rotated" --out "$work/ours-rot-$rep" >"$work/ours-rot-$rep.tsv"
  node "$work/sharp.js" "$photos" "$work/sharp-$rep" >"$work/sharp-$rep.tsv"
  node "$work/sharp.js" "$rotated" "$work/sharp-rot-$rep" >"$work/sharp-rot-$rep.tsv"
  read -r vips_mean vips_thumb_mean vips_display_mean < <(vips_batch "$work/vips" "${files[@]}")
  read -r vips_rot_mean _ _ < <(vips_batch "$work/vips-rot" "${rfiles[@]}")
  mean_of() { awk '/^#mean_ms/ {print $2}' "$1"; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$(mean_of "$work/ours-$rep.tsv")" \
    "$(mean_of "$work/sharp-$rep.tsv")" "$vips_mean" "$(mean_of "$work/ours-rot-$rep.tsv")" \
    "$(mean_of "$work/sharp-rot-$rep.tsv")" "$vips_rot_mean" "$vips_thumb_mean" "$vips_display_mean" >>"$work/reps.tsv"
  printf '  ms per image: ours %s, sharp %s, vips %s; rotated: ours %s, sharp %s, vips %s\n' \
    $(cut -f2-7 <(tail -n1 "$work/reps.tsv"))
done
col() { cut -f"$1" "$work/reps.tsv" | median; }
spread() { cut -f"$1" "$work/reps.tsv" | sort -g | awk '{v[NR]=$1} END {printf "%s–%s", v[1], v[NR]}'; }
ours_mean=$(col 2); sharp_mean=$(col 3); vips_mean=$(col 4)
ours_rot=$(col 5); sharp_rot=$(col 6); vips_rot=$(col 7)
vips_thumb_mean=$(col 8); vips_display_mean=$(col 9)
cp "$work/ours-1.tsv" "$work/ours.tsv"; rm -rf "$work/ours"; cp -r "$work/ours-1" "$work/ours"
ours_median=$(awk '/^#median_ms/ {print $2}' "$work/ours.tsv")
# (2) Per image, as a shell script would call it: two processes, start-up included.
: >"$work/vips.tsv"
for f in "${files[@]}"; do
  s=$(basename "$f" .jpg)
  t0=$(now)
  vipsthumbnail "$f" --size 480 -o "$work/vips/${s}_thumb.jpg$vopts"
  vipsthumbnail "$f" --size 2048 -o "$work/vips/${s}_display.jpg$vopts"
  printf '%s\t%s\t%s\t%s\n' "$s" "$(ms_since "$t0")" \
    "$(stat -c %s "$work/vips/${s}_thumb.jpg")" "$(stat -c %s "$work/vips/${s}_display.jpg")" >>"$work/vips.tsv"
  # Reference only (untimed): vips with optimised Huffman tables, as our encoder uses.
  vipsthumbnail "$f" --size 480 -o "$work/vips-opt/${s}_thumb.jpg[Q=80,strip,subsample_mode=on,optimize_coding]"
  vipsthumbnail "$f" --size 2048 -o "$work/vips-opt/${s}_display.jpg[Q=80,strip,subsample_mode=on,optimize_coding]"
done
vips_median=$(cut -f2 "$work/vips.tsv" | median)
s0=$(basename "${files[0]}" .jpg)
for r in "ours/${s0}_thumb" "vips/${s0}_thumb" "ours/${s0}_display" "vips/${s0}_display"; do
  printf '  %-28s %s  chroma %s\n' "$r.jpg" "$(vipsheader "$work/$r.jpg" | cut -d' ' -f2)" \
    "$(vipsheader -f jpeg-chroma-subsample "$work/$r.jpg")"
done

# ---- server --------------------------------------------------------------------------
if [[ -n ${NO_SERVER:-} ]]; then REPS_SERVER=0; else REPS_SERVER=$REPS; fi
free_port() {
  local p
  for p in $(seq 18080 18180); do
    (: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port" >&2; exit 1
}
start_server() { # $1: data dir
  port=$(free_port)
  mkdir -p "$1"
  (cd "$1" && MAIIMG_PORT=$port MAIIMG_ADDRESS=127.0.0.1 MAIIMG_DATA_DIR=$1 MAIIMG_LOG_LEVEL=critical \
    exec "$server_exe" serve) >"$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return
    sleep 0.1
  done
  echo "server did not start:" >&2; cat "$1.log" >&2; exit 1
}
stop_server() { # sets rss: the server's peak RSS in KiB
  rss=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=''
}
# Seconds since midnight of curl's --trace-time stamps: the end of the upload and the
# response's status line (first non-100), from a curl -v log.
stamp() { awk -v what="$1" '
  what == "sent" && /completely uploaded|upload completely sent off/ {split($1, t, ":"); printf "%.6f\n", t[1]*3600 + t[2]*60 + t[3]; exit}
  what == "answer" && /^[0-9:.]+ < HTTP\/[0-9.]+ [2-5]/ {split($1, t, ":"); printf "%.6f\n", t[1]*3600 + t[2]*60 + t[3]; exit}' "$2"; }
curl_v() { curl -sS -v --trace-time -H 'Expect:' ${RATE:+--limit-rate "$RATE"} "$@"; }

echo "== one multipart request with $n files → link ($REPS runs, fresh server each)"
: >"$work/link-multipart.txt"; : >"$work/rss.txt"
form=(); for f in "${files[@]}"; do form+=(-F "file=@$f;type=image/jpeg"); done
for rep in $(seq "$REPS_SERVER"); do
  start_server "$work/data-multipart-$rep"
  log=$work/multipart-$rep.log
  curl_v -o "$work/multipart-$rep.json" -w '%{http_code} %{time_total}\n' -F title=bench "${form[@]}" \
    "http://127.0.0.1:$port/api/galleries" 2>"$log" >"$work/multipart-$rep.status"
  grep -q '"share_url"' "$work/multipart-$rep.json" || { echo "upload failed:" >&2; cat "$work/multipart-$rep.json" >&2; exit 1; }
  tail_ms=$(awk -v a="$(stamp sent "$log")" -v b="$(stamp answer "$log")" 'BEGIN {printf "%.0f", (b - a) * 1000}')
  echo "$tail_ms" >>"$work/link-multipart.txt"
  stop_server; echo "$rss" >>"$work/rss.txt"
  printf '  run %s: whole request %.2f s, last byte → link %s ms, peak RSS %s MiB\n' \
    "$rep" "$(cut -d' ' -f2 "$work/multipart-$rep.status")" "$tail_ms" "$((rss / 1024))"
done

echo "== browser flow: $n × POST /api/uploads ($PARALLEL at a time), then POST /api/galleries (JSON)"
# curl's --trace-time stamps are only comparable within one process (each process pins them
# to the wall clock to the second), so each upload's last byte is placed on the wall clock as
# "curl exited" minus its own (answer − last byte sent).
upload_one() { # $1 file, $2 output prefix, $3 port
  curl -sS -v --trace-time -H 'Expect:' ${RATE:+--limit-rate "$RATE"} -o "$2.json" -F "file=@$1;type=image/jpeg" \
    "http://127.0.0.1:$3/api/uploads" 2>"$2.log"
  date +%s%N >"$2.end"
}
export -f upload_one
export RATE
: >"$work/link-browser.txt"
for rep in $(seq "$REPS_SERVER"); do
  start_server "$work/data-browser-$rep"
  dir=$work/browser-$rep; mkdir -p "$dir"
  jsons=(); for f in "${files[@]}"; do jsons+=("$dir/$(basename "$f" .jpg).json"); done
  t0=$(now)
  # shellcheck disable=SC2016 # $0..$2 are expanded by the inner bash
  for f in "${files[@]}"; do printf '%s\0%s\0' "$f" "$dir/$(basename "$f" .jpg)"; done |
    xargs -0 -n2 -P "$PARALLEL" bash -c 'upload_one "$1" "$2" "$0"' "$port"
  ids=$(grep -oh '"upload_id":"[^"]*"' "${jsons[@]}" | cut -d: -f2 | paste -sd,)
  [[ $(tr -cd , <<<"$ids" | wc -c) -eq $((n - 1)) ]] || { echo "an upload failed, see $dir" >&2; exit 1; }
  curl -sS -o "$dir/gallery.json" -w '%{time_total}' -H 'Content-Type: application/json' \
    --data "{\"title\":\"bench\",\"uploads\":[$ids]}" "http://127.0.0.1:$port/api/galleries" >"$dir/gallery.time"
  link=$(now)
  grep -q '"share_url"' "$dir/gallery.json" || { echo "gallery failed:" >&2; cat "$dir/gallery.json" >&2; exit 1; }
  # Per upload: wall-clock second of its last byte, and how long its answer took after it.
  for f in "$dir"/photo*.log; do
    awk -v s="$(stamp sent "$f")" -v a="$(stamp answer "$f")" -v e="$(cat "${f%.log}.end")" \
      'BEGIN {printf "%.6f %.0f\n", e / 1e9 - (a - s), (a - s) * 1000}'
  done | sort -g >"$dir/sent.txt"
  read -r last_sent last_ingest_ms < <(tail -n1 "$dir/sent.txt")
  tail_ms=$(awk -v s="$last_sent" -v l="$link" 'BEGIN {printf "%.0f", (l / 1e9 - s) * 1000}')
  create_ms=$(awk -v c="$(cat "$dir/gallery.time")" 'BEGIN {printf "%.0f", c * 1000}')
  echo "$tail_ms" >>"$work/link-browser.txt"
  stop_server; echo "$rss" >>"$work/rss.txt"
  printf '  run %s: all %s ms; last byte → link %s ms (that upload answered after %s ms; create %s ms), peak RSS %s MiB\n' \
    "$rep" "$(( ($(now) - t0) / 1000000 ))" "$tail_ms" "$last_ingest_ms" "$create_ms" "$((rss / 1024))"
done

# ---- report --------------------------------------------------------------------------
ours_thumb=$(sumcol 3 "$work/ours.tsv"); ours_display=$(sumcol 4 "$work/ours.tsv")
vips_thumb=$(sumcol 3 "$work/vips.tsv"); vips_display=$(sumcol 4 "$work/vips.tsv")
opt_thumb=$(cat "$work"/vips-opt/*_thumb.jpg | wc -c); opt_display=$(cat "$work"/vips-opt/*_display.jpg | wc -c)
sharp_thumb=$(sumcol 3 "$work/sharp-1.tsv"); sharp_display=$(sumcol 4 "$work/sharp-1.tsv")
mp_med=$(median <"$work/link-multipart.txt"); mp_max=$(maxof <"$work/link-multipart.txt")
br_med=$(median <"$work/link-browser.txt"); br_max=$(maxof <"$work/link-browser.txt")
rss_mib=$(awk '{print $1/1024}' "$work/rss.txt" | maxof)
if [[ -n ${PROFILE:-} ]]; then echo; echo "stage breakdown (the pure-Rust pipeline before libjpeg-turbo):"; awk -F'\t' '/^#stage/ {printf "  %7s %s\n", $2, $3}' "$work/ours.tsv"; fi

echo
echo "photos: $n, $(cat "${files[@]}" | wc -c | awk '{printf "%.1f MB", $1/1e6}'); vips $(vips --version); vipsthumbnail start-up ≈ ${startup_ms} ms per process"
echo "vips, one process per size over all photos: thumb 480 ${vips_thumb_mean} ms, display 2048 ${vips_display_mean} ms per image; sharp in-process, one thread; medians over $REPS reps"
row() { # label ours vips ratio goal result
  printf '%-44s %14s %10s %7s %8s  %s\n' "$@"
}
verdict() { awk -v v="$1" -v g="$2" 'BEGIN {print (v <= g ? "PASS" : "MISS")}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
row "figure" "ours" "reference" "ratio" "goal" "result"
judge() { # label ours reference goal-ratio
  local r; r=$(awk -v a="$2" -v b="$3" 'BEGIN {print a / b}')
  row "$1" "$2" "$3" "$(ratio "$2" "$3")" "<= ${4}x" "$(verdict "$r" "$4")"
}
judge "upright: ingest vs vipsthumbnail (ms/image)" "$ours_mean" "$vips_mean" 0.4
judge "upright: ingest vs sharp (ms/image)" "$ours_mean" "$sharp_mean" 0.5
judge "rotated (EXIF 6): ingest vs vipsthumbnail" "$ours_rot" "$vips_rot" 0.8
row "  (ref) rotated: ingest vs sharp" "$ours_rot" "$sharp_rot" "$(ratio "$ours_rot" "$sharp_rot")" "-" "-"
row "  (ref) median, vips as 2 processes (ms)" "$ours_median" "$vips_median" "$(ratio "$ours_median" "$vips_median")" "-" "-"
judge "thumb 480 bytes vs vips, all $n (KB)" "$((ours_thumb / 1000))" "$((vips_thumb / 1000))" 1.0
judge "display 2048 bytes vs vips, all $n (KB)" "$((ours_display / 1000))" "$((vips_display / 1000))" 1.0
row "  (ref) vs sharp: thumb (KB)" "$((ours_thumb / 1000))" "$((sharp_thumb / 1000))" "$(ratio "$ours_thumb" "$sharp_thumb")" "-" "-"
row "  (ref) vs sharp: display (KB)" "$((ours_display / 1000))" "$((sharp_display / 1000))" "$(ratio "$ours_display" "$sharp_display")" "-" "-"
row "  (ref) vs vips + optimize_coding: thumb" "$((ours_thumb / 1000))" "$((opt_thumb / 1000))" "$(ratio "$ours_thumb" "$opt_thumb")" "-" "-"
row "  (ref) vs vips + optimize_coding: display" "$((ours_display / 1000))" "$((opt_display / 1000))" "$(ratio "$ours_display" "$opt_display")" "-" "-"
if [[ $REPS_SERVER -gt 0 ]]; then
  row "last byte -> link, 1 multipart req (ms)" "$mp_med (max $mp_max)" "-" "-" "<= 1000" "$(verdict "$mp_max" 1000)"
  row "last byte -> link, browser flow (ms)" "$br_med (max $br_max)" "-" "-" "<= 1000" "$(verdict "$br_max" 1000)"
  row "server peak RSS, VmHWM (MiB)" "$(printf %.0f "$rss_mib")" "-" "-" "<= 512" "$(verdict "$rss_mib" 512)"
fi
echo
echo "per rep, ms per image (rep, ours, sharp, vips, rotated: ours, sharp, vips):"
cut -f1-7 "$work/reps.tsv" | sed 's/^/  /'
echo "spread over $REPS reps: ours $(spread 2), sharp $(spread 3), vips $(spread 4); rotated: ours $(spread 5), sharp $(spread 6), vips $(spread 7)"
echo "details: $work/{ours,vips}.tsv, renditions in $work/{ours,vips,vips-opt}/, curl logs in $work"
