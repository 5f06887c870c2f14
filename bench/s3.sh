#!/usr/bin/env bash
# Object-storage benchmark: viewer image throughput and ingest, files on disk against files
# in a real S3-compatible store (SeaweedFS, tests/s3/seaweedfs.sh), with nginx as the
# reference, in one run, same wrk settings for every case. See bench/s3.md.
#
# Viewer cases (an admitted viewer: ticket cookie t_<id>):
#   (a) nginx: the display JPEG as a static file
#   (b) maiimg, storage = fs, GET /g/<id>/i/0/display (proxy)
#   (c) maiimg, storage = s3, delivery = proxy: the same
#   (d) maiimg, storage = s3, delivery = redirect: the 302 to a presigned URL, alone
#   (e) nginx: `return 302 <that URL>;`
#   (f) SeaweedFS: GET of that presigned URL (the second leg of a redirected fetch)
#   (g) the original (> 4 MiB, streamed and hashed on the fly, never in the memory cache):
#       (g1) nginx static file, (g2) maiimg from disk, (g3) maiimg from the bucket
#   (b0), (d0) (b) and (d) with front_door = false (Rocket on the public port, as behind a
#       reverse proxy): what the front door's relay costs on these answers
# Each case runs once per round, PAIRS rounds, the order reversed every other round; the
# figures are medians over the rounds and the ratios medians of the per-round ratios.
#
# Ingest: the 25-photo gallery (bench/run.sh's generated 4000x3000 JPEGs) as one multipart
# request and as the browser flow (3 uploads at a time, then the gallery), REPS runs per
# backend, disk and bucket alternating, a fresh server each run: "last byte -> link".
#
# Knobs (environment): DURATION (5s per case and round), CONNS (64), THREADS (2), WARMUP
# (2s, unreported), PAIRS (5), REPS (3), N (25 photos), PHOTO (absolute path of a JPEG for
# the viewer cases; it should be over 4 MiB for (g)), PHOTOS (a directory of *.jpg to
# ingest instead of the generated ones), NO_BUILD=1 (use target/release/maiimg and the
# ingest bench binary as they are), BIN=/abs/path (another maiimg binary), KEEP=1 (keep the
# temp files), NO_VIEW=1 / NO_INGEST=1 (skip one half), SEAWEEDFS_PORT (19333; it also uses
# the next four ports and those 10000 above), PORTS (9100-9199: where maiimg and nginx
# listen).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench/lib.sh
source bench/lib.sh

DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
PAIRS=${PAIRS:-5}
REPS=${REPS:-3}
N=${N:-25}
SEAWEEDFS_PORT=${SEAWEEDFS_PORT:-19333}
PORTS=${PORTS:-9100-9199}
PARALLEL=3 # the web UI's upload concurrency (assets/upload.js)

for tool in nginx wrk curl awk vips vipsheader python3; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool: apt-get install -y nginx wrk curl libvips-tools python3" >&2
    exit 1
  }
done
# The server refuses MAIIMG_* variables it does not know, and a benchmark runs defaults:
# only what this script sets reaches it.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^MAIIMG_' || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-s3.XXXXXX")
weed_dir=$work/seaweedfs
pids=()
weed_started=''
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n $weed_started ]]; then
    # `weed mini` can take a while to go on SIGTERM, or not go: the next run would find
    # its ports taken. Ten seconds, then SIGKILL (this run's own process, by its id).
    local weed=${weed_pid:-}
    bash "$root/tests/s3/seaweedfs.sh" stop "$weed_dir" || true
    if [[ -n $weed ]]; then
      for _ in $(seq 50); do kill -0 "$weed" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$weed" 2>/dev/null || true
    fi
  fi
  if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "temp files: $work${KEEP:+ (kept)}"

# ---------------------------------------------------------------------------------------
# Helpers

used_ports=' '
free_port() { # a port of $PORTS where nothing answers and that this run has not given out
  local lo=${PORTS%-*} hi=${PORTS#*-} p
  for p in $(seq "$lo" "$hi"); do
    [[ $used_ports == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      echo "$p"
      return
    fi
  done
  echo "no free port in $PORTS" >&2
  return 1
}


# S3 settings of the bucket SeaweedFS serves, with a key prefix of the server's own: each
# server has its own database, and the instance marker ties a prefix to one database.
s3_env() { # prefix → the MAIIMG_* assignments for a server on the bucket
  printf '%s\n' MAIIMG_STORAGE=s3 "MAIIMG_S3_ENDPOINT=$TEST_S3_ENDPOINT" \
    "MAIIMG_S3_REGION=$TEST_S3_REGION" "MAIIMG_S3_BUCKET=$TEST_S3_BUCKET" \
    "MAIIMG_S3_PREFIX=$1" "MAIIMG_S3_ACCESS_KEY=$TEST_S3_ACCESS_KEY" \
    "MAIIMG_S3_SECRET_KEY=$TEST_S3_SECRET_KEY" MAIIMG_S3_PATH_STYLE=true
}
run_id=$(date -u +%Y%m%d%H%M%S)-$$

start_maiimg() { # name [MAIIMG_X=v…] → sets maiimg_port and maiimg_pid
  local name=$1
  shift
  maiimg_port=$(free_port)
  mkdir -p "$work/$name"
  # From its own directory: a ./maiimg.toml there would be read.
  (cd "$work/$name" && exec env MAIIMG_ADDRESS=127.0.0.1 MAIIMG_PORT="$maiimg_port" \
    MAIIMG_DATA_DIR="$work/$name/data" MAIIMG_LOG_LEVEL=off \
    MAIIMG_RATE_LIMIT_GALLERIES_PER_HOUR=0 MAIIMG_RATE_LIMIT_UPLOADS_PER_HOUR=0 "$@" \
    "$BIN" serve) >"$work/$name/stdout.log" 2>"$work/$name/stderr.log" &
  maiimg_pid=$!
  pids+=("$maiimg_pid")
  wait_http "http://127.0.0.1:$maiimg_port/healthz" || {
    tail -n 20 "$work/$name/stderr.log" "$work/$name/stdout.log" >&2
    return 1
  }
}

stop_maiimg() { # pid → sets rss (peak RSS in KiB, VmHWM)
  rss=$(awk '/^VmHWM/ {print $2}' "/proc/$1/status")
  kill "$1"
  wait "$1" 2>/dev/null || true
  local kept=() pid
  for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
  pids=("${kept[@]}")
}

# One measured run: "rps p50_ms p99_ms requests bad socket_errors cpu_us_per_req", the CPU
# being that of the processes in $server_pids (user + system, every thread).
run_wrk() { # name url [wrk args…]
  local name=$1 url=$2 t0 t1
  shift 2
  t0=$(cpu_ticks "${server_pids[@]}")
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url" >"$work/$name.wrk.txt"
  t1=$(cpu_ticks "${server_pids[@]}")
  awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    function ms(v) {
      if (v ~ /us$/) return v * 0.001   # awk reads the leading number
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/)  return v * 60000
      if (v ~ /s$/)  return v * 1000
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { n = $1 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { gsub(",", ""); errs = $4 + $6 + $8 + $10 }
    /^Requests\/sec:/ { rps = $2 }
    END {
      printf "%.0f %.2f %.2f %d %d %d %.0f\n", rps, p50, p99, n, bad, errs,
        n ? ticks * 1e6 / hz / n : 0
    }
  ' "$work/$name.wrk.txt"
}

# ---------------------------------------------------------------------------------------
# Build, SeaweedFS

release_binary
if [[ -z ${NO_BUILD:-} && -z ${NO_INGEST:-} && -z ${PHOTOS:-} ]]; then
  cargo bench --quiet --bench ingest --no-run
fi

for p in $(seq "$SEAWEEDFS_PORT" $((SEAWEEDFS_PORT + 4))) $(seq $((SEAWEEDFS_PORT + 10000)) $((SEAWEEDFS_PORT + 10004))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "something already listens on $p: set SEAWEEDFS_PORT to a free range" >&2
    exit 1
  fi
done
echo "== SeaweedFS on 127.0.0.1:$SEAWEEDFS_PORT"
weed_started=1
# (Not eval "$(…)" directly: a start that fails must stop the run.)
weed_vars=$(SEAWEEDFS_PORT=$SEAWEEDFS_PORT bash tests/s3/seaweedfs.sh start "$weed_dir")
eval "$weed_vars"
weed_pid=$(cat "$weed_dir/weed.pid")
# S3 answers a moment before `weed mini` has made the bucket: wait for a signed listing.
for _ in $(seq 150); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:$TEST_S3_REGION:s3" \
    --user "$TEST_S3_ACCESS_KEY:$TEST_S3_SECRET_KEY" \
    "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET?list-type=2&max-keys=1" || true) == 200 ]] && break
  sleep 0.2
done
weed_version=$("$(readlink "/proc/$weed_pid/exe")" version 2>/dev/null | awk 'NR == 1 {print $3}' || true)

loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A R  # case → space-separated per-round req/s
declare -A CPU # case → space-separated per-round cpu us per request
declare -A P99 # case → space-separated per-round p99 ms
declare -A RATIO # ratio name → space-separated per-round ratios
bad_answers=0

# ---------------------------------------------------------------------------------------
# Viewers

if [[ -z ${NO_VIEW:-} ]]; then
  photo=${PHOTO:-$work/photo.jpg}
  if [[ -z ${PHOTO:-} ]]; then
    echo "== making a photo-like 5000x3400 JPEG (vips; q95 so the original is over 4 MiB)"
    # bench/viewers.sh's recipe (sky gradient, blotchy scene, fine sensor noise), larger.
    v=$work/gen
    mkdir -p "$v"
    W=5000 H=3400
    vips xyz "$v/xy.v" $W $H
    vips extract_band "$v/xy.v" "$v/y.v" 1
    slope=(0.035 0.042 -0.035) offset=(70 90 210)
    for b in 0 1 2; do
      vips linear -- "$v/y.v" "$v/g$b.v" "${slope[$b]}" "${offset[$b]}"
      vips gaussnoise "$v/n$b.v" $W $H --sigma 60 --mean 0 --seed $((7 + b))
      vips gaussblur "$v/n$b.v" "$v/blob$b.v" 12
      vips linear "$v/blob$b.v" "$v/blobs$b.v" 6 0
      vips gaussnoise "$v/f$b.v" $W $H --sigma 2.5 --mean 0 --seed $((17 + b))
      vips add "$v/g$b.v" "$v/blobs$b.v" "$v/s$b.v"
      vips add "$v/s$b.v" "$v/f$b.v" "$v/c$b.v"
    done
    vips bandjoin "$v/c0.v $v/c1.v $v/c2.v" "$v/rgb.v"
    vips cast "$v/rgb.v" "$v/u8.v" uchar
    vips copy "$v/u8.v" "$v/srgb.v" --interpretation srgb
    vips jpegsave "$v/srgb.v" "$photo" --Q 95
    rm -rf "$v"
  fi
  echo "photo: $photo ($(stat -c %s "$photo") bytes)"

  # One server per way of serving; each gallery the same photo, downloads allowed.
  create_gallery() { # port → "id"
    local answer id
    answer=$(curl -sf -F title="s3 bench" -F allow_download=true -F file=@"$photo" \
      "http://127.0.0.1:$1/api/galleries")
    id=$(json_field id <<<"$answer")
    [[ -n $id ]] || { echo "could not create a gallery: $answer" >&2; return 1; }
    echo "$id"
  }
  admit() { # name port id → sets cookie (the ticket of one admitted viewer)
    curl -sf -c "$work/$1.jar" -o /dev/null "http://127.0.0.1:$2/g/$3"
    cookie=$(awk -v n="t_$3" '$6 == n {print $6 "=" $7}' "$work/$1.jar")
    [[ -n $cookie ]] || { echo "no ticket cookie in $work/$1.jar" >&2; return 1; }
  }

  echo "== maiimg: disk (b, g2)"
  start_maiimg disk
  pid_disk=$maiimg_pid
  id=$(create_gallery "$maiimg_port")
  admit disk "$maiimg_port" "$id"
  url_b="http://127.0.0.1:$maiimg_port/g/$id/i/0/display"
  url_g2="http://127.0.0.1:$maiimg_port/g/$id/i/0/original"
  cookie_disk=$cookie

  echo "== maiimg: bucket, proxy delivery (c, g3)"
  mapfile -t env_proxy < <(s3_env "bench-$run_id-proxy")
  start_maiimg proxy "${env_proxy[@]}"
  pid_proxy=$maiimg_pid
  id=$(create_gallery "$maiimg_port")
  admit proxy "$maiimg_port" "$id"
  url_c="http://127.0.0.1:$maiimg_port/g/$id/i/0/display"
  url_g3="http://127.0.0.1:$maiimg_port/g/$id/i/0/original"
  cookie_proxy=$cookie

  echo "== maiimg: bucket, redirect delivery (d)"
  # The longest presigned URL life allowed: one URL serves every round of (e) and (f).
  mapfile -t env_redirect < <(s3_env "bench-$run_id-redirect")
  start_maiimg redirect "${env_redirect[@]}" MAIIMG_DELIVERY=redirect MAIIMG_PRESIGN_TTL=900
  pid_redirect=$maiimg_pid
  id=$(create_gallery "$maiimg_port")
  admit redirect "$maiimg_port" "$id"
  url_d="http://127.0.0.1:$maiimg_port/g/$id/i/0/display"
  cookie_redirect=$cookie
  redirect_head=$(curl -s -o /dev/null -D - -H "Cookie: $cookie_redirect" "$url_d" | tr -d '\r')
  status_d=$(awk 'NR == 1 {print $2}' <<<"$redirect_head")
  presigned=$(awk 'tolower($1) == "location:" {print $2}' <<<"$redirect_head")
  [[ $status_d == 302 && $presigned == http://127.0.0.1:"$SEAWEEDFS_PORT"/* ]] || {
    echo "the redirect server answered $status_d, Location '$presigned'" >&2
    exit 1
  }
  location_bytes=${#presigned}
  # Signing times are rounded: the same viewer gets the same URL again.
  again=$(curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: $cookie_redirect" "$url_d")
  same_url=no
  [[ $again == "$presigned" ]] && same_url=yes

  # The reference files: the bytes maiimg serves, fetched once through it.
  www=$work/www
  mkdir -p "$www"
  curl -sf -H "Cookie: $cookie_disk" -o "$www/display.jpg" "$url_b"
  curl -sf -H "Cookie: $cookie_disk" -o "$www/original.jpg" "$url_g2"
  for pair in "$url_c $cookie_proxy display" "$url_g3 $cookie_proxy original"; do
    read -r u c what <<<"$pair"
    cmp -s <(curl -sf -H "Cookie: $c" "$u") "$www/$what.jpg" ||
      { echo "the bucket's server sends other bytes for $what" >&2; exit 1; }
  done
  cmp -s <(curl -sf "$presigned") "$www/display.jpg" ||
    { echo "the presigned URL gives other bytes" >&2; exit 1; }
  display_bytes=$(stat -c %s "$www/display.jpg")
  original_bytes=$(stat -c %s "$www/original.jpg")
  display_size=$(vipsheader -f width "$www/display.jpg")x$(vipsheader -f height "$www/display.jpg")
  if ((original_bytes <= 4 * 1024 * 1024)); then
    echo "note: the original is $original_bytes bytes, not over 4 MiB: (g) is then served from memory too" >&2
  fi
  [[ $presigned =~ ^[A-Za-z0-9:/?\&=%._~+-]+$ ]] ||
    { echo "the presigned URL cannot go into nginx.conf as it is: $presigned" >&2; exit 1; }

  # The same two without the front door (front_door = false: Rocket on the public port,
  # as behind a reverse proxy that enforces its own timeouts): what the relay costs here.
  echo "== maiimg: disk and bucket redirect, front_door = false (b0, d0)"
  start_maiimg disk-nofront MAIIMG_FRONT_DOOR=false
  pid_disk0=$maiimg_pid
  id=$(create_gallery "$maiimg_port")
  admit disk-nofront "$maiimg_port" "$id"
  url_b0="http://127.0.0.1:$maiimg_port/g/$id/i/0/display"
  cookie_disk0=$cookie
  mapfile -t env_redirect0 < <(s3_env "bench-$run_id-redirect-nofront")
  start_maiimg redirect-nofront "${env_redirect0[@]}" MAIIMG_DELIVERY=redirect \
    MAIIMG_PRESIGN_TTL=900 MAIIMG_FRONT_DOOR=false
  pid_redirect0=$maiimg_pid
  id=$(create_gallery "$maiimg_port")
  admit redirect-nofront "$maiimg_port" "$id"
  url_d0="http://127.0.0.1:$maiimg_port/g/$id/i/0/display"
  cookie_redirect0=$cookie
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie_redirect0" "$url_d0") == 302 ]] ||
    { echo "the redirect server without the front does not answer 302" >&2; exit 1; }

  echo "== nginx (a, e, g1)"
  ngx=$work/nginx
  mkdir -p "$ngx/tmp"
  nginx_port=$(free_port)
  cat >"$ngx/nginx.conf" <<EOF
# bench/viewers.sh's static server (sendfile, no access log, keep-alive), and the same
# 302 maiimg answers: the same Location, Cache-Control: no-store.
user root;
worker_processes auto;
daemon off;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 4096; }
http {
  types { image/jpeg jpg; }
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  client_body_temp_path $ngx/tmp/body;
  proxy_temp_path $ngx/tmp/proxy;
  fastcgi_temp_path $ngx/tmp/fastcgi;
  uwsgi_temp_path $ngx/tmp/uwsgi;
  scgi_temp_path $ngx/tmp/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $www;
    location = /redirect {
      add_header Cache-Control no-store always;
      return 302 "$presigned";
    }
  }
}
EOF
  nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" &
  pids+=($!)
  nginx_base="http://127.0.0.1:$nginx_port"
  wait_http "$nginx_base/display.jpg"
  mapfile -t nginx_pids < <(echo "${pids[-1]}"; pgrep -P "${pids[-1]}") # master and workers
  [[ $(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$nginx_base/redirect") == "302 $presigned" ]] ||
    { echo "nginx does not answer the same 302" >&2; exit 1; }

  # Case table: name, url, the processes doing the work, wrk's extra arguments.
  cases=(a b c d e f g1 g2 g3 b0 d0)
  declare -A URL PIDS HDR
  URL[a]=$nginx_base/display.jpg PIDS[a]="${nginx_pids[*]}" HDR[a]=''
  URL[b]=$url_b PIDS[b]=$pid_disk HDR[b]="Cookie: $cookie_disk"
  URL[c]=$url_c PIDS[c]="$pid_proxy $weed_pid" HDR[c]="Cookie: $cookie_proxy"
  URL[d]=$url_d PIDS[d]=$pid_redirect HDR[d]="Cookie: $cookie_redirect"
  URL[e]=$nginx_base/redirect PIDS[e]="${nginx_pids[*]}" HDR[e]=''
  URL[f]=$presigned PIDS[f]=$weed_pid HDR[f]=''
  URL[g1]=$nginx_base/original.jpg PIDS[g1]="${nginx_pids[*]}" HDR[g1]=''
  URL[g2]=$url_g2 PIDS[g2]=$pid_disk HDR[g2]="Cookie: $cookie_disk"
  URL[g3]=$url_g3 PIDS[g3]="$pid_proxy $weed_pid" HDR[g3]="Cookie: $cookie_proxy"
  URL[b0]=$url_b0 PIDS[b0]=$pid_disk0 HDR[b0]="Cookie: $cookie_disk0"
  URL[d0]=$url_d0 PIDS[d0]=$pid_redirect0 HDR[d0]="Cookie: $cookie_redirect0"
  wrk_args() { # case → wrk's header argument, if any
    if [[ -n ${HDR[$1]} ]]; then printf '%s\n' -H "${HDR[$1]}"; fi
  }

  echo "== wrk -t$THREADS -c$CONNS -d$DURATION --latency, $PAIRS rounds of every case (after a $WARMUP warm-up each)"
  for c in "${cases[@]}"; do
    mapfile -t extra < <(wrk_args "$c")
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${extra[@]}" "${URL[$c]}" >"$work/$c.warmup.txt"
  done
  sleep 1
  for round in $(seq "$PAIRS"); do
    order=("${cases[@]}")
    if ((round % 2 == 0)); then
      order=()
      for ((i = ${#cases[@]} - 1; i >= 0; i--)); do order+=("${cases[$i]}"); done
    fi
    line="  round $round:"
    declare -A this=()
    for c in "${order[@]}"; do
      read -r -a server_pids <<<"${PIDS[$c]}"
      mapfile -t extra < <(wrk_args "$c")
      read -r rps _p50 p99 n bad errs cpu < <(run_wrk "$c-$round" "${URL[$c]}" "${extra[@]}")
      bad_answers=$((bad_answers + bad + errs))
      if ((bad + errs > 0)); then echo "  ($c) round $round: $bad non-2xx/3xx answers, $errs socket errors" >&2; fi
      this[$c]=$rps
      R[$c]+="$rps " CPU[$c]+="$cpu " P99[$c]+="$p99 "
      if ((n == 0)); then echo "  ($c) round $round: no request completed" >&2; fi
    done
    for c in "${cases[@]}"; do line+=" ($c) ${this[$c]}"; done
    echo "$line"
    ratio_of() { awk -v a="${this[$1]}" -v b="${this[$2]}" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }
    RATIO[b/a]+="$(ratio_of b a) " RATIO[c/a]+="$(ratio_of c a) " RATIO[c/b]+="$(ratio_of c b) "
    RATIO[d/e]+="$(ratio_of d e) " RATIO[f/a]+="$(ratio_of f a) "
    RATIO[b0/a]+="$(ratio_of b0 a) " RATIO[d0/e]+="$(ratio_of d0 e) "
    RATIO[b/b0]+="$(ratio_of b b0) " RATIO[d/d0]+="$(ratio_of d d0) "
    RATIO[g2/g1]+="$(ratio_of g2 g1) " RATIO[g3/g1]+="$(ratio_of g3 g1) " RATIO[g3/g2]+="$(ratio_of g3 g2) "
    # Both legs of a redirected fetch on this one machine: each viewer fetch costs one
    # 302 from maiimg and one GET from the store, so at best 1 / (1/d + 1/f) per second.
    RATIO[whole]+="$(awk -v d="${this[d]}" -v f="${this[f]}" 'BEGIN {printf "%.0f", (d > 0 && f > 0) ? 1 / (1 / d + 1 / f) : 0}') "
    RATIO[whole/b]+="$(awk -v d="${this[d]}" -v f="${this[f]}" -v b="${this[b]}" 'BEGIN {printf "%.3f", (d > 0 && f > 0 && b > 0) ? 1 / (1 / d + 1 / f) / b : 0}') "
  done
  loadavg_view=$(cut -d' ' -f1-3 /proc/loadavg)
  stop_maiimg "$pid_disk"
  stop_maiimg "$pid_proxy"
  stop_maiimg "$pid_redirect"
  stop_maiimg "$pid_disk0"
  stop_maiimg "$pid_redirect0"
fi

# ---------------------------------------------------------------------------------------
# Ingest: last byte → link

if [[ -z ${NO_INGEST:-} ]]; then
  photos=${PHOTOS:-$work/photos}
  if [[ -z ${PHOTOS:-} ]]; then
    target=${CARGO_TARGET_DIR:-$root/target}
    bench_exe=$(find "$target/release/deps" -maxdepth 1 -type f -executable -name 'ingest-*' -printf '%T@ %p\n' |
      sort -n | tail -n1 | cut -d' ' -f2)
    [[ -x $bench_exe ]] || { echo "build the ingest bench first (cargo bench --bench ingest --no-run), or set PHOTOS" >&2; exit 1; }
    echo "== making $N photo-like 4000x3000 JPEGs (bench/ingest.rs)"
    "$bench_exe" make "$photos" "$N" 2>&1 | tail -n1
  fi
  mapfile -t files < <(printf '%s\n' "$photos"/*.jpg | sort)
  n=${#files[@]}
  photos_mb=$(cat "${files[@]}" | wc -c | awk '{printf "%.1f", $1 / 1e6}')

  # Seconds since midnight of curl's --trace-time stamps (bench/run.sh): the end of the
  # upload and the response's status line.
  stamp() { awk -v what="$1" '
    what == "sent" && /completely uploaded|upload completely sent off/ {split($1, t, ":"); printf "%.6f\n", t[1]*3600 + t[2]*60 + t[3]; exit}
    what == "answer" && /^[0-9:.]+ < HTTP\/[0-9.]+ [2-5]/ {split($1, t, ":"); printf "%.6f\n", t[1]*3600 + t[2]*60 + t[3]; exit}' "$2"; }
  now() { date +%s%N; }
  upload_one() { # $1 file, $2 output prefix, $3 port
    curl -sS -v --trace-time -H 'Expect:' -o "$2.json" -F "file=@$1;type=image/jpeg" \
      "http://127.0.0.1:$3/api/uploads" 2>"$2.log"
    date +%s%N >"$2.end"
  }
  export -f upload_one

  form=()
  for f in "${files[@]}"; do form+=(-F "file=@$f;type=image/jpeg"); done
  declare -A LINK WHOLE RSS LAST PAIRED
  ingest_run() { # backend rep flow: one fresh server, one gallery of all the photos
    local backend=$1 rep=$2 flow=$3 name="ingest-$1-$3-$2" tail_ms whole_ms
    local extra=()
    if [[ $backend == s3 ]]; then mapfile -t extra < <(s3_env "bench-$run_id-$name"); fi
    start_maiimg "$name" "${extra[@]}"
    local port=$maiimg_port pid=$maiimg_pid dir=$work/$name
    if [[ $flow == multipart ]]; then
      local log=$dir/curl.log t0
      t0=$(now)
      curl -sS -v --trace-time -H 'Expect:' -o "$dir/gallery.json" -F title=bench "${form[@]}" \
        "http://127.0.0.1:$port/api/galleries" 2>"$log"
      whole_ms=$((($(now) - t0) / 1000000))
      grep -q '"share_url"' "$dir/gallery.json" || { echo "upload failed:" >&2; cat "$dir/gallery.json" >&2; exit 1; }
      tail_ms=$(awk -v a="$(stamp sent "$log")" -v b="$(stamp answer "$log")" 'BEGIN {printf "%.0f", (b - a) * 1000}')
    else
      local t0 jsons=() ids link last_sent
      mkdir -p "$dir/up"
      for f in "${files[@]}"; do jsons+=("$dir/up/$(basename "$f" .jpg).json"); done
      t0=$(now)
      # shellcheck disable=SC2016 # $0..$2 are expanded by the inner bash
      for f in "${files[@]}"; do printf '%s\0%s\0' "$f" "$dir/up/$(basename "$f" .jpg)"; done |
        xargs -0 -n2 -P "$PARALLEL" bash -c 'upload_one "$1" "$2" "$0"' "$port"
      ids=$(grep -oh '"upload_id":"[^"]*"' "${jsons[@]}" | cut -d: -f2 | paste -sd,)
      [[ $(tr -cd , <<<"$ids" | wc -c) -eq $((n - 1)) ]] || { echo "an upload failed, see $dir" >&2; exit 1; }
      curl -sS -o "$dir/gallery.json" -H 'Content-Type: application/json' \
        --data "{\"title\":\"bench\",\"uploads\":[$ids]}" "http://127.0.0.1:$port/api/galleries"
      link=$(now)
      whole_ms=$(((link - t0) / 1000000))
      grep -q '"share_url"' "$dir/gallery.json" || { echo "gallery failed:" >&2; cat "$dir/gallery.json" >&2; exit 1; }
      # Each upload's last byte on the wall clock: "curl exited" − (its answer − its last byte).
      last_sent=$(for f in "$dir"/up/*.log; do
        awk -v s="$(stamp sent "$f")" -v a="$(stamp answer "$f")" -v e="$(cat "${f%.log}.end")" \
          'BEGIN {printf "%.6f\n", e / 1e9 - (a - s)}'
      done | sort -g | tail -n1)
      tail_ms=$(awk -v s="$last_sent" -v l="$link" 'BEGIN {printf "%.0f", (l / 1e9 - s) * 1000}')
    fi
    stop_maiimg "$pid"
    LINK[$backend-$flow]+="$tail_ms " WHOLE[$backend-$flow]+="$whole_ms " RSS[$backend]+="$((rss / 1024)) "
    LAST[$backend-$flow]=$tail_ms
    printf '  rep %s %-9s %-4s: last byte -> link %5s ms, whole %6s ms, peak RSS %s MiB\n' \
      "$rep" "$flow" "$backend" "$tail_ms" "$whole_ms" "$((rss / 1024))"
  }
  echo "== ingest: $n photos ($photos_mb MB), one multipart request and the browser flow, $REPS reps, disk and bucket alternating"
  for rep in $(seq "$REPS"); do
    order=(fs s3)
    if ((rep % 2 == 0)); then order=(s3 fs); fi
    for flow in multipart browser; do
      for backend in "${order[@]}"; do ingest_run "$backend" "$rep" "$flow"; done
      # The two runs of a rep follow each other: their ratio is the least noisy figure.
      PAIRED[$flow]+="$(awk -v a="${LAST[s3-$flow]}" -v b="${LAST[fs-$flow]}" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}') "
    done
  done
  loadavg_ingest=$(cut -d' ' -f1-3 /proc/loadavg)
fi

# ---------------------------------------------------------------------------------------
# Report

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
rng() { tr ' ' '\n' <<<"$1" | grep . | spread; }
verdict() { awk -v v="$1" -v goal="$2" -v dir="$3" 'BEGIN {print ((dir == "ge") ? (v >= goal) : (v <= goal)) ? "PASS" : "MISS"}'; }
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
if [[ -n $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then commit+=' + uncommitted changes'; fi
if [[ $BIN != "$root/target/release/maiimg" ]]; then commit="at $BIN"; fi
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), maiimg $commit, $(nproc) cores ($cpu), nginx $(nginx -v 2>&1 | sed 's|.*/||'), SeaweedFS ${weed_version:-?} (weed mini),"
echo "all on loopback: wrk, nginx, maiimg and SeaweedFS share the same cores."
echo "load average: at the start $loadavg_start${loadavg_view:+, after the viewer rounds $loadavg_view}${loadavg_ingest:+, after ingest $loadavg_ingest}"
if [[ -z ${NO_VIEW:-} ]]; then
  echo
  echo "viewers: wrk -t$THREADS -c$CONNS -d$DURATION --latency, $PAIRS rounds (order reversed every other round);"
  echo "display JPEG $display_bytes B ($display_size), original $original_bytes B; presigned URL $location_bytes B;"
  echo "the same viewer asking again got the same URL: $same_url. cpu us: the serving processes' CPU per request"
  echo "(maiimg's, nginx's, and SeaweedFS's for (c), (f), (g3)); p99: median over rounds."
  echo
  printf '%-56s %9s %15s %7s %7s\n' case 'req/s' 'range' 'p99 ms' 'cpu us'
  for c in a b c d e f g1 g2 g3 b0 d0; do
    case $c in
      a) label='(a) nginx: display JPEG, static file' ;;
      b) label='(b) maiimg proxy from disk: display, admitted' ;;
      c) label='(c) maiimg proxy from S3: display, admitted' ;;
      d) label='(d) maiimg redirect: the 302 alone' ;;
      e) label='(e) nginx: return 302 <the same URL>' ;;
      f) label='(f) SeaweedFS: GET of the presigned URL' ;;
      g1) label='(g1) nginx: original, static file' ;;
      g2) label='(g2) maiimg proxy from disk: original, streamed' ;;
      g3) label='(g3) maiimg proxy from S3: original, streamed' ;;
      b0) label='(b0) as (b), front_door = false' ;;
      d0) label='(d0) as (d), front_door = false' ;;
    esac
    printf '%-56s %9s %15s %7s %7s\n' "$label" "$(med "${R[$c]}")" "$(rng "${R[$c]}")" \
      "$(med "${P99[$c]}")" "$(med "${CPU[$c]}")"
  done
  echo
  printf '%-56s %9s %15s %6s\n' 'ratio (median of the per-round ratios)' measured range ''
  goal_row() { # label ratio-name goal
    local m
    m=$(med "${RATIO[$2]}")
    printf '%-56s %9s %15s %6s\n' "$1" "$m" "$(rng "${RATIO[$2]}")" "${3:+$(verdict "$m" "$3" ge)}"
  }
  goal_row 'proxy from disk: (b)/(a) >= 0.90' b/a 0.90
  goal_row 'redirect answer: (d)/(e) >= 0.80' d/e 0.80
  goal_row 'proxy from S3: (c)/(a) (no goal)' c/a ''
  goal_row '  (c)/(b): S3 against disk (no goal)' c/b ''
  goal_row 'store serving the file: (f)/(a) (no goal)' f/a ''
  goal_row 'whole redirected fetch on this machine, 1/(1/d+1/f) /s' whole ''
  goal_row '  the same against proxy from disk, /(b) (no goal)' whole/b ''
  goal_row 'originals streamed, disk: (g2)/(g1) (no goal)' g2/g1 ''
  goal_row 'originals streamed, S3: (g3)/(g1) (no goal)' g3/g1 ''
  goal_row '  (g3)/(g2): S3 against disk (no goal)' g3/g2 ''
  goal_row 'without the front door: (b0)/(a) (no goal)' b0/a ''
  goal_row '  (d0)/(e) (no goal)' d0/e ''
  goal_row 'what the front costs: (b)/(b0) (no goal)' b/b0 ''
  goal_row '  (d)/(d0) (no goal)' d/d0 ''
  echo "non-2xx/3xx answers and socket errors over all rounds: $bad_answers"
fi
if [[ -z ${NO_INGEST:-} ]]; then
  echo
  echo "ingest: $n photos, $photos_mb MB, unthrottled loopback; a fresh server per run, $REPS runs per backend and flow"
  echo "ratio: the median of each rep's S3 / disk (the two runs follow each other), its range in brackets"
  printf '%-44s %14s %14s %20s %6s\n' 'last byte -> link (ms)' disk S3 ratio ''
  for flow in multipart browser; do
    fs_m=$(med "${LINK[fs-$flow]}")
    s3_m=$(med "${LINK[s3-$flow]}")
    r=$(med "${PAIRED[$flow]}")
    printf '%-44s %14s %14s %20s %6s\n' "$flow: S3 <= 1.2x disk" "$fs_m ($(rng "${LINK[fs-$flow]}"))" \
      "$s3_m ($(rng "${LINK[s3-$flow]}"))" "$r ($(rng "${PAIRED[$flow]}"))" "$(verdict "$r" 1.2 le)"
  done
  echo "  (ratio of the medians: multipart $(awk -v a="$(med "${LINK[s3-multipart]}")" -v b="$(med "${LINK[fs-multipart]}")" 'BEGIN {printf "%.2f", a / b}'), browser $(awk -v a="$(med "${LINK[s3-browser]}")" -v b="$(med "${LINK[fs-browser]}")" 'BEGIN {printf "%.2f", a / b}'))"
  for flow in multipart browser; do
    fs_w=$(med "${WHOLE[fs-$flow]}")
    s3_w=$(med "${WHOLE[s3-$flow]}")
    printf '%-44s %14s %14s %20s\n' "$flow: whole, first byte -> link (ms)" "$fs_w ($(rng "${WHOLE[fs-$flow]}"))" \
      "$s3_w ($(rng "${WHOLE[s3-$flow]}"))" "$(awk -v a="$s3_w" -v b="$fs_w" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}') (medians)"
  done
  printf '%-44s %14s %14s\n' "photos/s, multipart (n / whole)" \
    "$(awk -v n="$n" -v w="$(med "${WHOLE[fs-multipart]}")" 'BEGIN {printf "%.1f", n * 1000 / w}')" \
    "$(awk -v n="$n" -v w="$(med "${WHOLE[s3-multipart]}")" 'BEGIN {printf "%.1f", n * 1000 / w}')"
  printf '%-44s %14s %14s\n' "server peak RSS, max (MiB)" \
    "$(tr ' ' '\n' <<<"${RSS[fs]}" | grep . | sort -g | tail -n1)" "$(tr ' ' '\n' <<<"${RSS[s3]}" | grep . | sort -g | tail -n1)"
fi
echo
if [[ -n ${KEEP:-} ]]; then echo "raw wrk output and curl logs: $work"; fi
if ((bad_answers > 0)); then exit 1; fi
