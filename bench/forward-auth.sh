#!/usr/bin/env bash
# Forward-auth benchmark (docs/benchmarks.md, SPEC.md section 7):
#   bash bench/forward-auth.sh
# Builds mfagate and a bare net/http hello server, starts mfagate on SQLite
# with one signed-in session, then with wrk (64 connections, DURATION
# seconds each) measures GET /auth/verify with that session's cookie and
# the hello handler, and prints both rates, p50/p99 latency and the ratio
# (target: ratio >= 0.8, p99 < 20 ms). Then it sends ANON_REQUESTS
# anonymous /auth/verify requests and prints mfagate's resident memory
# before and after (target: flat). Everything listens on 127.0.0.1 and
# stops when the script ends.
#
# Settings (environment): DURATION (10), CONNECTIONS (64), THREADS (2),
# ANON_REQUESTS (1000000), MFAGATE_PORT (18080), HELLO_PORT (18081).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ANON_REQUESTS=${ANON_REQUESTS:-1000000}
MFAGATE_PORT=${MFAGATE_PORT:-18080}
HELLO_PORT=${HELLO_PORT:-18081}

for tool in wrk curl go; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench: $tool is not installed. On Debian or Ubuntu: apt-get install -y $tool" >&2
    exit 1
  fi
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building mfagate and the hello server..."
go build -o "$work/mfagate" ./cmd/mfagate
go build -o "$work/hello" ./bench/hello

base="http://127.0.0.1:$MFAGATE_PORT"
"$work/mfagate" keygen "$work/secret.key" >/dev/null
cat >"$work/mfagate.yaml" <<YAML
server:
  addr: "127.0.0.1:$MFAGATE_PORT"
  base_url: "$base"
  dev_insecure_cookies: true
  trusted_proxies: [127.0.0.1]
database:
  driver: sqlite
  dsn: "$work/mfagate.db"
secrets:
  key_file: "$work/secret.key"
mail:
  from: "Bench <bench@example.com>"
  driver: outbox
YAML
# No rollout phases: a person without a factor is fully signed in by the
# password alone, which is all a session check needs.
password="plum orchard lantern bench"
echo "$password" | "$work/mfagate" user add bench --email bench@example.com --roles user \
  --password-stdin --config "$work/mfagate.yaml" >/dev/null

"$work/mfagate" serve --config "$work/mfagate.yaml" 2>"$work/mfagate.log" &
mfagate_pid=$!
pids+=("$mfagate_pid")
"$work/hello" -addr "127.0.0.1:$HELLO_PORT" &
pids+=("$!")

wait_for() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: $1 did not answer within 10s" >&2
  cat "$work/mfagate.log" >&2
  exit 1
}
wait_for "$base/healthz"
wait_for "http://127.0.0.1:$HELLO_PORT/"

curl -fsS -o /dev/null -c "$work/cookies" \
  --data-urlencode "username=bench" --data-urlencode "password=$password" "$base/login"
token=$(awk '$6 == "mfagate_session" { print $7 }' "$work/cookies")
if [ -z "$token" ]; then
  echo "bench: signing in gave no session cookie" >&2
  exit 1
fi
cookie="Cookie: mfagate_session=$token"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "$cookie" "$base/auth/verify")
if [ "$status" != 200 ]; then
  echo "bench: /auth/verify with the session answered $status, want 200" >&2
  exit 1
fi

# run_wrk NAME URL [wrk options...]: runs wrk, keeps its report in $work/NAME.
run_wrk() {
  local name=$1 url=$2
  shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" >"$work/$name.txt"
  if grep -q "Non-2xx" "$work/$name.txt"; then
    echo "bench: $name got answers other than 2xx:" >&2
    cat "$work/$name.txt" >&2
    exit 1
  fi
}
# rate FILE, latency FILE PERCENT: figures from a wrk --latency report,
# latencies in milliseconds.
rate() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
latency() {
  awk -v p="$2%" '$1 == p {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
    printf "%.2f", v }' "$1"
}
rss() { awk '/^VmRSS:/ { printf "%.1f MB", $2 / 1024 }' "/proc/$mfagate_pid/status"; }

echo "warming up..."
DURATION=2 run_wrk warmup "$base/auth/verify" -H "$cookie"
echo "measuring /auth/verify (signed in) and the hello handler, ${DURATION}s each, $CONNECTIONS connections, $THREADS wrk threads, $(nproc) cores..."
run_wrk verify "$base/auth/verify" -H "$cookie"
run_wrk hello "http://127.0.0.1:$HELLO_PORT/"

v_rate=$(rate "$work/verify.txt") h_rate=$(rate "$work/hello.txt")
printf '\n%-28s %12s %10s %10s\n' "" "requests/s" "p50 ms" "p99 ms"
printf '%-28s %12.0f %10s %10s\n' "/auth/verify (signed in)" "$v_rate" "$(latency "$work/verify.txt" 50)" "$(latency "$work/verify.txt" 99)"
printf '%-28s %12.0f %10s %10s\n' "net/http hello" "$h_rate" "$(latency "$work/hello.txt" 50)" "$(latency "$work/hello.txt" 99)"
awk -v v="$v_rate" -v h="$h_rate" 'BEGIN { printf "ratio verify/hello: %.2f (target >= 0.80)\n", v / h }'

echo
echo "anonymous requests: $ANON_REQUESTS to /auth/verify without a cookie..."
before=$(rss)
# In 5-second rounds until enough have been sent (wrk has no request count).
sent=0 rounds=0
while [ "$sent" -lt "$ANON_REQUESTS" ] && [ "$rounds" -lt 120 ]; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$base/auth/verify" >"$work/anon.txt"
  n=$(awk '/requests in/ { print $1 }' "$work/anon.txt")
  refused=$(awk '/^  Non-2xx or 3xx responses:/ { print $NF }' "$work/anon.txt")
  if [ "$n" != "${refused:-0}" ]; then
    echo "bench: an anonymous request was not refused:" >&2
    cat "$work/anon.txt" >&2
    exit 1
  fi
  sent=$(( sent + n ))
  rounds=$(( rounds + 1 ))
done
after=$(rss)
echo "requests sent: $sent, all refused (401)"
echo "mfagate resident memory: before $before, after $after"
if grep -q 'level=\(INFO\|WARN\|ERROR\).*auth/verify' "$work/mfagate.log"; then
  echo "bench: anonymous requests were logged above debug:" >&2
  grep 'auth/verify' "$work/mfagate.log" | head -5 >&2
  exit 1
fi
