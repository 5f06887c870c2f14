#!/usr/bin/env bash
# Viewer benchmark: nginx vs maiimg on loopback, one run, same load tool (wrk) and settings
# for every case. See bench/viewers.md.
#
#   (a) nginx: the gallery page's HTML as a static file
#   (b) maiimg: GET /g/<id> by new viewers, every request counted (exact, durable, group commit)
#   (c) maiimg: the same with MAIIMG_GROUP_COMMIT=false (one durable redb commit per open)
#   (t) maiimg: (b) with MAIIMG_TRACKING=false (open counts only, no access log): what
#       recording every open in the log and its roll-ups costs
#   (d) nginx: the ~200 KB display JPEG as a static file
#   (e) maiimg: GET /g/<id>/i/0/display for an admitted viewer (ticket cookie)
#   (r) maiimg: GET /healthz, reference only (Rocket + one blocking-pool trip + a redb read)
#   (x) exact counting: a view limit under the same load admits exactly that many
#
#   (b~t) the recording cost once more, robust to a noisy host: PAIRS (5) alternating runs of
#       (b) and (t), 5 s each; the goal uses the median of the per-pair ratios
#
# Knobs (environment): DURATION (10s), CONNS (64), THREADS (2), WARMUP (2s, unreported),
# LIMIT (5000: view limit of the exact-count check), PHOTO (absolute path of a JPEG to
# upload instead of the generated one), NO_BUILD=1 (use target/release/maiimg as it is),
# BIN=/abs/path (run that binary instead, e.g. an older commit's build; with NO_BUILD=1),
# KEEP=1 (keep temp files), PORTS=LO-HI (where the servers listen; default: random ports in
# 20000-39999).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench/lib.sh
source bench/lib.sh

DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
LIMIT=${LIMIT:-5000}
PROFILE=${PROFILE:-}
if [[ -n $PROFILE ]] && ! command -v perf >/dev/null; then
  echo "PROFILE=1 needs perf: apt-get install -y linux-perf" >&2
  exit 1
fi

for tool in nginx wrk curl awk vips vipsheader; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool: apt-get install -y nginx wrk curl libvips-tools" >&2
    exit 1
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-viewers.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "temp files: $work${KEEP:+ (kept)}"

# ---------------------------------------------------------------------------------------
# Helpers

free_port() {
  local p lo=20000 span=20000
  if [[ -n ${PORTS:-} ]]; then lo=${PORTS%-*} span=$((${PORTS#*-} - ${PORTS%-*} + 1)); fi
  while :; do
    p=$((lo + RANDOM % span))
    # Nothing answers there (bash's /dev/tcp connect fails): use it.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}

start_maiimg() { # name group_commit [tracking] → sets maiimg_port, appends to pids
  local name=$1 group=$2 tracking=${3:-true}
  maiimg_port=$(free_port)
  mkdir -p "$work/$name"
  # wrk is the only client, and the proxy the (b~t, distinct) pairs pretend to be.
  MAIIMG_ADDRESS=127.0.0.1 MAIIMG_PORT=$maiimg_port MAIIMG_DATA_DIR="$work/$name/data" \
    MAIIMG_LOG_LEVEL=off MAIIMG_GROUP_COMMIT=$group MAIIMG_TRACKING=$tracking \
    MAIIMG_TRUSTED_PROXIES=127.0.0.1 \
    "$BIN" >"$work/$name/stdout.log" 2>"$work/$name/stderr.log" &
  pids+=($!)
  wait_http "http://127.0.0.1:$maiimg_port/healthz"
}

create_gallery() { # port [extra curl args…] → "id key"
  local port=$1
  shift
  local answer id key
  answer=$(curl -sf -F title="viewer bench" -F file=@"$photo" "$@" \
    "http://127.0.0.1:$port/api/galleries")
  id=$(json_field id <<<"$answer")
  key=$(json_field manage_key <<<"$answer")
  [[ -n $id && -n $key ]] || { echo "could not create a gallery: $answer" >&2; return 1; }
  echo "$id $key"
}

opens() { # port id key → the gallery's open counter
  curl -sf -H "Authorization: Bearer $3" "http://127.0.0.1:$1/api/galleries/$2" |
    sed -n 's/.*"counters":{"opens":\([0-9]*\)}.*/\1/p'
}

warm_up() { # name url [wrk args…]: not reported; then let stragglers finish
  local name=$1 url=$2
  shift 2
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$@" "$url" >"$work/$name.warmup.txt"
  sleep 1
}

# One measured run against the server whose processes are in $server_pids. Prints one line:
# "rps p50_ms p99_ms requests non2xx socket_errors server_cpu_us_per_req ctx_per_req
# fdatasync_per_1000_req" (the last two "-" without PROFILE=1).
run_wrk() { # name url [wrk args…]
  local name=$1 url=$2
  shift 2
  local perf_pid='' t0 t1
  if [[ -n $PROFILE ]]; then
    perf stat -x, -e sched:sched_switch,syscalls:sys_enter_fdatasync \
      -p "$(IFS=,; echo "${server_pids[*]}")" -o "$work/$name.perf.txt" -- sleep "$DURATION" \
      2>/dev/null &
    perf_pid=$!
  fi
  t0=$(cpu_ticks "${server_pids[@]}")
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url" >"$work/$name.wrk.txt"
  t1=$(cpu_ticks "${server_pids[@]}")
  if [[ -n $perf_pid ]]; then wait "$perf_pid" || true; fi
  awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v perf="$work/$name.perf.txt" '
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
      ctx = "-"; fsync = "-"
      while ((getline line < perf) > 0) {
        split(line, f, ",")
        if (line ~ /sched_switch/ && n) ctx = sprintf("%.1f", f[1] / n)
        if (line ~ /fdatasync/ && n) fsync = sprintf("%.0f", 1000 * f[1] / n)
      }
      printf "%.0f %.2f %.2f %d %d %d %.0f %s %s\n", rps, p50, p99, n, bad, errs,
        n ? ticks * 1e6 / hz / n : 0, ctx, fsync
    }
  ' "$work/$name.wrk.txt"
}

# ---------------------------------------------------------------------------------------
# Build and the photo

release_binary

photo=${PHOTO:-$work/photo.jpg}
if [[ -z ${PHOTO:-} ]]; then
  echo "== making a photo-like 3000x2000 JPEG (vips)"
  # Sky-like gradient + soft, blotchy "scene" + fine sensor noise: its 2048-px display
  # rendition lands near the ~200 KB of a typical phone photo's.
  v=$work/gen
  mkdir -p "$v"
  vips xyz "$v/xy.v" 3000 2000
  vips extract_band "$v/xy.v" "$v/y.v" 1
  slope=(0.05 0.06 -0.05) # per band: blue sky at the top, green below
  offset=(70 90 210)
  for b in 0 1 2; do
    vips linear -- "$v/y.v" "$v/g$b.v" "${slope[$b]}" "${offset[$b]}"
    vips gaussnoise "$v/n$b.v" 3000 2000 --sigma 60 --mean 0 --seed $((7 + b))
    vips gaussblur "$v/n$b.v" "$v/blob$b.v" 12
    vips linear "$v/blob$b.v" "$v/blobs$b.v" 6 0
    vips gaussnoise "$v/f$b.v" 3000 2000 --sigma 2.5 --mean 0 --seed $((17 + b))
    vips add "$v/g$b.v" "$v/blobs$b.v" "$v/s$b.v"
    vips add "$v/s$b.v" "$v/f$b.v" "$v/c$b.v"
  done
  vips bandjoin "$v/c0.v $v/c1.v $v/c2.v" "$v/rgb.v"
  vips cast "$v/rgb.v" "$v/u8.v" uchar
  vips copy "$v/u8.v" "$v/srgb.v" --interpretation srgb
  vips jpegsave "$v/srgb.v" "$photo" --Q 92
  rm -rf "$v"
fi
echo "photo: $photo ($(stat -c %s "$photo") bytes)"

# ---------------------------------------------------------------------------------------
# Servers and content

echo "== maiimg, group commit (b, e)"
start_maiimg group true
port_b=$maiimg_port
pid_b=${pids[-1]}
gallery=$(create_gallery "$port_b")
read -r id_b key_b <<<"$gallery"
base_b="http://127.0.0.1:$port_b/g/$id_b"

# One real viewer: the page's HTML (for nginx), the ticket cookie, the display bytes.
www=$work/www
mkdir -p "$www"
curl -sf -c "$work/jar" -o "$www/gallery.html" "$base_b"
cookie=$(awk -v n="t_$id_b" '$6 == n {print $6 "=" $7}' "$work/jar")
[[ -n $cookie ]] || { echo "no ticket cookie in $work/jar" >&2; exit 1; }
curl -sf -H "Cookie: $cookie" -o "$www/display.jpg" "$base_b/i/0/display"
html_bytes=$(stat -c %s "$www/gallery.html")
display_bytes=$(stat -c %s "$www/display.jpg")
display_size=$(vipsheader -f width "$www/display.jpg" 2>/dev/null || true)x$(vipsheader -f height "$www/display.jpg" 2>/dev/null || true)
echo "gallery page: $html_bytes bytes; display rendition: $display_bytes bytes ($display_size)"

echo "== maiimg, one commit per open (c)"
start_maiimg single false
port_c=$maiimg_port
pid_c=${pids[-1]}
gallery=$(create_gallery "$port_c")
read -r id_c key_c <<<"$gallery"

echo "== maiimg, group commit, tracking off (t)"
start_maiimg untracked true false
port_t=$maiimg_port
pid_t=${pids[-1]}
gallery=$(create_gallery "$port_t")
read -r id_t key_t <<<"$gallery"

echo "== nginx (a, d)"
ngx=$work/nginx
mkdir -p "$ngx/tmp"
nginx_port=$(free_port)
cat >"$ngx/nginx.conf" <<EOF
# Minimal static server, tuned as one would for speed: sendfile, no access log,
# connections kept open (Rocket never closes keep-alive connections either).
user root;
worker_processes auto;
daemon off;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 4096; }
http {
  types { text/html html; image/jpeg jpg; }
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
  }
}
EOF
nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" &
pids+=($!)
nginx_base="http://127.0.0.1:$nginx_port"
wait_http "$nginx_base/gallery.html"
mapfile -t nginx_pids < <(echo "${pids[-1]}"; pgrep -P "${pids[-1]}") # master and workers
cmp -s <(curl -sf "$nginx_base/display.jpg") "$www/display.jpg" || { echo "nginx serves other bytes" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# Load

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== wrk -t$THREADS -c$CONNS -d$DURATION --latency (after a $WARMUP warm-up each)"
declare -A R
echo "  (a) nginx, gallery HTML"
server_pids=("${nginx_pids[@]}")
warm_up a "$nginx_base/gallery.html"
R[a]=$(run_wrk a "$nginx_base/gallery.html")

# New viewers arrive from a real browser (the parse is cached, as it is for real traffic).
agent='User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'

echo "  (b) maiimg /g/<id>, new viewers, group commit"
server_pids=("$pid_b")
warm_up b "$base_b" -H "$agent"
opens_b0=$(opens "$port_b" "$id_b" "$key_b")
R[b]=$(run_wrk b "$base_b" -H "$agent")
sleep 1 # requests wrk abandoned at its deadline still finish (and count) on the server
opens_b1=$(opens "$port_b" "$id_b" "$key_b")

echo "  (c) maiimg /g/<id>, new viewers, one commit per open"
server_pids=("$pid_c")
base_c="http://127.0.0.1:$port_c/g/$id_c"
warm_up c "$base_c" -H "$agent"
opens_c0=$(opens "$port_c" "$id_c" "$key_c")
R[c]=$(run_wrk c "$base_c" -H "$agent")
sleep 1
opens_c1=$(opens "$port_c" "$id_c" "$key_c")

echo "  (t) maiimg /g/<id>, new viewers, group commit, tracking off"
server_pids=("$pid_t")
base_t="http://127.0.0.1:$port_t/g/$id_t"
warm_up t "$base_t" -H "$agent"
opens_t0=$(opens "$port_t" "$id_t" "$key_t")
R[t]=$(run_wrk t "$base_t" -H "$agent")
sleep 1
opens_t1=$(opens "$port_t" "$id_t" "$key_t")

PAIRS=${PAIRS:-5}
pairs() { # label [wrk args…] → prints each pair, then "median <ratio>" last
  local label=$1 pair b_rps t_rps ratios=()
  shift
  for pair in $(seq "$PAIRS"); do
    server_pids=("$pid_b")
    b_rps=$(DURATION=5s run_wrk "$label$pair-b" "$base_b" "$@" | cut -d' ' -f1)
    server_pids=("$pid_t")
    t_rps=$(DURATION=5s run_wrk "$label$pair-t" "$base_t" "$@" | cut -d' ' -f1)
    ratios+=("$(awk -v b="$b_rps" -v t="$t_rps" 'BEGIN {printf "%.3f", (t > 0) ? b / t : 0}')")
    echo "      pair $pair: (b) $b_rps/s, (t) $t_rps/s, ratio ${ratios[-1]}" >&2
  done
  printf '%s\n' "${ratios[@]}" | sort -g |
    awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
echo "  (b~t) $PAIRS alternating pairs of (b) and (t), 5 s each"
b_t_median=$(pairs pair -H "$agent")

# Every open by someone new, as when a link goes round a group: each request comes from
# another address (X-Forwarded-For from a trusted proxy), so each open also stores that
# visitor's seen key and counts a unique visitor.
echo "  (b~t, distinct) $PAIRS alternating pairs, every open by another visitor"
distinct_median=$(pairs distinct -H "$agent" -s "$root/bench/visitors.lua")

echo "  (d) nginx, display JPEG"
server_pids=("${nginx_pids[@]}")
warm_up d "$nginx_base/display.jpg"
R[d]=$(run_wrk d "$nginx_base/display.jpg")

echo "  (e) maiimg /g/<id>/i/0/display, admitted viewer"
server_pids=("$pid_b")
warm_up e "$base_b/i/0/display" -H "Cookie: $cookie"
R[e]=$(run_wrk e "$base_b/i/0/display" -H "Cookie: $cookie")

echo "  (r) maiimg /healthz (reference)"
server_pids=("$pid_b")
warm_up r "http://127.0.0.1:$port_b/healthz"
R[r]=$(run_wrk r "http://127.0.0.1:$port_b/healthz")

echo "  (x) exact-count check: a gallery with max_opens=$LIMIT, $CONNS connections, 5 s"
gallery=$(create_gallery "$port_b" -F max_opens="$LIMIT")
read -r id_x key_x <<<"$gallery"
wrk -t"$THREADS" -c"$CONNS" -d5s "http://127.0.0.1:$port_b/g/$id_x" >"$work/x.wrk.txt"
sleep 1
x_total=$(awk '/ requests in /{print $1}' "$work/x.wrk.txt")
x_bad=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$work/x.wrk.txt")
x_ok=$((x_total - ${x_bad:-0}))
x_opens=$(opens "$port_b" "$id_x" "$key_x")

# ---------------------------------------------------------------------------------------
# Report

field() { awk -v i="$2" '{print $i}' <<<"${R[$1]}"; }
ok_count() { echo $(($(field "$1" 4) - $(field "$1" 5))); }
verdict() { awk -v v="$1" -v goal="$2" 'BEGIN {print (v >= goal) ? "PASS" : "MISS"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
if [[ -n $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then commit+=' + uncommitted changes'; fi
if [[ $BIN != "$root/target/release/maiimg" ]]; then commit="at $BIN"; fi
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), maiimg $commit, $(nproc) cores ($cpu), nginx $(nginx -v 2>&1 | sed 's|.*/||'),"
echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency on loopback, each case after a $WARMUP warm-up;"
echo "wrk runs on the same cores as the server it measures (the same for every case)."
echo "load average before the load: $loadavg (anything else busy on the machine skews every row)."
echo "gallery page $html_bytes B, display JPEG $display_bytes B ($display_size)."
echo "cpu us: the server's CPU time (all its processes and threads, user + system) per request."
echo
printf '%-52s %8s %8s %8s %9s %6s %8s' case 'req/s' 'p50 ms' 'p99 ms' '200s' errors 'cpu us'
if [[ -n $PROFILE ]]; then printf ' %7s %8s' 'ctx/req' 'fsync/1k'; fi
echo
for c in a b c t d e r; do
  case $c in
    a) label='(a) nginx: gallery HTML, static file' ;;
    b) label='(b) maiimg /g/<id>: new viewer, counted, grouped' ;;
    c) label='(c) maiimg /g/<id>: one durable commit per open' ;;
    t) label='(t) maiimg /g/<id>: as (b), tracking off' ;;
    d) label='(d) nginx: display JPEG, static file' ;;
    e) label='(e) maiimg /g/<id>/i/0/display, admitted' ;;
    r) label='(r) maiimg /healthz (reference, no goal)' ;;
  esac
  printf '%-52s %8s %8s %8s %9s %6s %8s' "$label" "$(field $c 1)" "$(field $c 2)" "$(field $c 3)" \
    "$(ok_count $c)" "$(($(field $c 5) + $(field $c 6)))" "$(field $c 7)"
  if [[ -n $PROFILE ]]; then printf ' %7s %8s' "$(field $c 8)" "$(field $c 9)"; fi
  echo
done
echo
b_a=$(ratio "$(field b 1)" "$(field a 1)")
b_c=$(ratio "$(field b 1)" "$(field c 1)")
e_d=$(ratio "$(field e 1)" "$(field d 1)")
b_t=$(ratio "$(field b 1)" "$(field t 1)")
printf '%-52s %10s %6s\n' goal measured ''
printf '%-52s %10s %6s\n' '(b)/(a) >= 0.20' "$b_a" "$(verdict "$b_a" 0.20)"
printf '%-52s %10s %6s\n' '(b)/(c) >= 4' "$b_c" "$(verdict "$b_c" 4)"
printf '%-52s %10s %6s\n' '(b) p99 <= 20 ms at 64 connections' "$(field b 3)" \
  "$(awk -v p="$(field b 3)" 'BEGIN {print (p <= 20) ? "PASS" : "MISS"}')"
printf '%-52s %10s %6s\n' 'image: (e)/(d) >= 0.50' "$e_d" "$(verdict "$e_d" 0.50)"
printf '%-52s %10s %6s\n' '(b)/(t), the 10 s runs above (no goal)' "$b_t" ''
printf '%-52s %10s %6s\n' "recording costs <= 10 %: median of $PAIRS (b)/(t) pairs >= 0.90" "$b_t_median" "$(verdict "$b_t_median" 0.90)"
printf '%-52s %10s %6s\n' "the same, every open by another visitor (no goal)" "$distinct_median" ''
echo
echo "exact counting:"
wrong=
exact() { # label counter_delta wrk_200s
  local label=$1 delta=$2 ok=$3
  local extra=$((delta - ok))
  local state
  if ((extra == 0)); then
    state=exact
  elif ((extra > 0 && extra <= CONNS)); then
    state="ok: $extra counted opens whose answer wrk no longer read (in flight at its deadline, <= $CONNS)"
  else
    state=WRONG
    wrong=1
  fi
  printf '  %-44s counter +%-8s wrk 200s %-8s %s\n' "$label" "$delta" "$ok" "$state"
}
exact '(b) measured run' $((opens_b1 - opens_b0)) "$(ok_count b)"
exact '(c) measured run' $((opens_c1 - opens_c0)) "$(ok_count c)"
exact '(t) measured run' $((opens_t1 - opens_t0)) "$(ok_count t)"
exact "(x) max_opens=$LIMIT, 5 s of wrk" "$x_opens" "$x_ok"
if ((x_ok < LIMIT && x_opens < LIMIT)); then
  echo "  (x) the limit was not reached in 5 s: lower LIMIT"
elif ((x_opens != LIMIT || x_ok != LIMIT)); then
  echo "  (x) WRONG: expected exactly $LIMIT opens and $LIMIT answers 200"
  wrong=1
fi
echo
if [[ -n ${KEEP:-} ]]; then echo "raw wrk output: $work/*.wrk.txt"; fi
if [[ -n $wrong ]]; then exit 1; fi
