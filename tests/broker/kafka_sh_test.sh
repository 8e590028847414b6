#!/usr/bin/env bash
# Self-check of deploy/local/kafka.sh against a real Kafka 4.4.0 broker: start, status, idempotent
# start, topic create/list with the CLI, produce/consume with kcat, stop, restart keeping data.
#
#   tests/broker/kafka_sh_test.sh              one node (the default, ~30 s)
#   tests/broker/kafka_sh_test.sh --nodes 3    three nodes, plus stop-node/start-node of node 1
#   tests/broker/kafka_sh_test.sh --sasl       SASL cluster: kcat logs in as alice, unauthenticated
#                                              and wrong-password clients are refused, alice logs
#                                              in with SCRAM-SHA-512 (Java client)
#   KAFKA_SH_TEST_NODES=3 KAFKA_SH_TEST_SASL=1 tests/broker/kafka_sh_test.sh
#
# Ports are random (free base in 20000-32000, below the ephemeral range) and the cluster dir is a fresh temp dir, so runs in
# parallel (ctest -j) do not collide. Exit 0 and a PASS line, or non-zero and a FAIL line.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K="$REPO_ROOT/deploy/local/kafka.sh"
NODES=${KAFKA_SH_TEST_NODES:-1}
SASL=${KAFKA_SH_TEST_SASL:-0}
NAME=kafka_sh_test

while (($#)); do
  case $1 in
    --nodes) NODES=${2-}; shift 2 || { echo "$NAME: --nodes needs a value" >&2; exit 2; } ;;
    --sasl) SASL=1; shift ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "$NAME: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ $NODES =~ ^[13]$ ]] || { echo "$NAME: --nodes must be 1 or 3" >&2; exit 2; }

T0=$SECONDS
TMP=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
D="$TMP/cluster"
STEP="setup"

finish() {
  local rc=$?
  # Whatever happened, never leave brokers behind: they would hold ports and RAM for later tests.
  "$K" stop --dir "$D" >/dev/null 2>&1 || true
  if ((rc == 0)); then
    rm -rf "$TMP"
    echo "$NAME: PASS ($NODES node(s)$( ((SASL)) && echo ", sasl"), $((SECONDS - T0))s)"
  else
    echo "$NAME: FAIL at step '$STEP' (exit $rc); cluster dir kept: $D" >&2
    echo "$NAME: FAIL"
  fi
}
trap finish EXIT
trap 'exit 130' INT TERM

step() {
  STEP=$*
  echo "--- $STEP"
}
fail() {
  echo "$NAME: $*" >&2
  exit 1
}

# A pid counts as gone once it is not in /proc or is a zombie waiting for init to reap it.
pid_gone() {
  local stat
  [[ -e /proc/$1 ]] || return 0
  stat=$(<"/proc/$1/stat") 2>/dev/null || return 0
  stat=${stat##*) }
  [[ ${stat%% *} == Z ]]
}

# Finds a base port with base..base+2*NODES-1 all free on 127.0.0.1 (even, so the layout is easy
# to read). Binding them at once is the only reliable check; a tiny race with other tests remains,
# and kafka.sh refuses to start on a busy port, so it shows up as a clear failure.
pick_base_port() {
  python3 - "$((2 * NODES))" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 32000 - n, 2)  # below the ephemeral range (32768+)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", p))
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit("no free port range found")
EOF
}

have_kcat() { command -v kcat >/dev/null 2>&1; }

# On a SASL cluster kcat logs in as alice with PLAIN: Debian's librdkafka 2.0.2 cannot do SCRAM
# against Kafka 4.x (see deploy/local/kafka.sh); the Java CLI tools use SCRAM as admin.
KCAT_SEC=()
START_ARGS=()
if ((SASL)); then
  KCAT_SEC=(-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN
    -X sasl.username=alice -X sasl.password=alice-secret)
  START_ARGS=(--sasl)
fi

produce() { # produce BOOTSTRAP TOPIC VALUE
  if have_kcat; then
    printf '%s\n' "$3" | timeout 60 kcat -b "$1" "${KCAT_SEC[@]}" -P -t "$2" -X acks=all
  else
    printf '%s\n' "$3" | timeout 60 "$K" cli --dir "$D" kafka-console-producer --topic "$2"
  fi
}

consume_all() { # consume_all BOOTSTRAP TOPIC COUNT: prints COUNT records from the beginning
  if have_kcat; then
    timeout 60 kcat -b "$1" "${KCAT_SEC[@]}" -C -t "$2" -o beginning -c "$3" -e -q
  else
    timeout 60 "$K" cli --dir "$D" kafka-console-consumer --topic "$2" --from-beginning \
      --max-messages "$3" 2>/dev/null
  fi
}

[[ -x $K ]] || fail "$K missing or not executable"
have_kcat || echo "$NAME: kcat not found, producing/consuming with the Java console tools"

step "pick ports"
BASE=$(pick_base_port)
echo "base port $BASE, dir $D"
RF=$NODES
EXPECTED_BOOTSTRAP=""
for ((i = 0; i < NODES; i++)); do
  EXPECTED_BOOTSTRAP+="${EXPECTED_BOOTSTRAP:+,}127.0.0.1:$((BASE + 2 * i))"
done

step "start $NODES node(s)"
t=$SECONDS
out=$("$K" start --nodes "$NODES" --port "$BASE" --dir "$D" "${START_ARGS[@]}")
B=$(tail -n 1 <<<"$out")
echo "started in $((SECONDS - t))s, bootstrap $B"
[[ $B == "$EXPECTED_BOOTSTRAP" ]] || fail "start printed '$B', expected '$EXPECTED_BOOTSTRAP'"
[[ $(<"$D/bootstrap") == "$EXPECTED_BOOTSTRAP" ]] || fail "$D/bootstrap does not hold $EXPECTED_BOOTSTRAP"

step "listeners bind to 127.0.0.1 only"
if command -v ss >/dev/null 2>&1; then
  for ((p = BASE; p < BASE + 2 * NODES; p++)); do
    listen=$(ss -Hltn "sport = :$p" | awk '{print $4}')
    [[ -n $listen ]] || fail "nothing listens on port $p"
    while read -r addr; do
      [[ $addr == "127.0.0.1:$p" || $addr == "[::ffff:127.0.0.1]:$p" ]] ||
        fail "port $p listens on $addr, not 127.0.0.1 only"
    done <<<"$listen"
  done
else
  echo "(ss not found, skipped)"
fi

step "status reports running"
status=$("$K" status --dir "$D") || fail "status exited $? on a running cluster: $status"
echo "$status"
(($(grep -c ': running pid ' <<<"$status") == NODES)) || fail "status does not show $NODES running node(s)"

step "start again is idempotent"
out=$("$K" start --dir "$D" --port "$BASE" 2>&1) || fail "second start failed: $out"
[[ $(tail -n 1 <<<"$out") == "$EXPECTED_BOOTSTRAP" ]] || fail "second start printed: $out"
grep -q 'already running' <<<"$out" || fail "second start did not say it was already running"

step "create and list a topic with the cli"
"$K" cli --dir "$D" kafka-topics --create --topic t --partitions 3 --replication-factor "$RF"
topics=$("$K" cli --dir "$D" kafka-topics --list)
grep -qx t <<<"$topics" || fail "topic t not listed: $topics"
if ((NODES == 3)); then
  desc=$("$K" cli --dir "$D" kafka-topics --describe --topic t)
  grep -q 'ReplicationFactor: 3' <<<"$desc" || fail "topic t is not replicated 3 times: $desc"
fi

if ((SASL)); then
  step "SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN enabled; alice logs in with SCRAM-SHA-512"
  grep -q 'sasl SCRAM-SHA-256,SCRAM-SHA-512,PLAIN,' <<<"$status" ||
    fail "status does not name the three mechanisms: $status"
  cat >"$TMP/alice-512.properties" <<'EOF'
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";
EOF
  topics=$("$K" cli --dir "$D" kafka-topics --list --command-config "$TMP/alice-512.properties") ||
    fail "alice could not list topics with SCRAM-SHA-512"
  grep -qx t <<<"$topics" || fail "topic t not listed for alice over SCRAM-SHA-512: $topics"
fi

if ((SASL)) && have_kcat; then
  step "unauthenticated and wrong-password clients are refused"
  if kcat -b "$B" -L -m 5 >/dev/null 2>&1; then fail "metadata without credentials succeeded"; fi
  if kcat -b "$B" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
    -X sasl.username=alice -X sasl.password=wrong -L -m 5 >/dev/null 2>&1; then
    fail "metadata with a wrong password succeeded"
  fi
fi

step "produce and consume"
MSG1="hello-$$-$RANDOM"
produce "$B" t "$MSG1"
got=$(consume_all "$B" t 1)
[[ $got == "$MSG1" ]] || fail "consumed '$got', expected '$MSG1'"

MSGS=("$MSG1")
if ((NODES == 3)); then
  step "stop-node 1 / start-node 1"
  p1=$("$K" pid 1 --dir "$D")
  "$K" stop-node 1 --dir "$D"
  pid_gone "$p1" || fail "node 1 (pid $p1) still alive after stop-node"
  if "$K" status --dir "$D" >/dev/null; then fail "status exited 0 with node 1 down"; fi
  if "$K" pid 1 --dir "$D" >/dev/null 2>&1; then fail "pid 1 succeeded with node 1 down"; fi
  MSG2="while-node-1-down-$$"
  produce "$B" t "$MSG2"
  MSGS+=("$MSG2")
  t=$SECONDS
  "$K" start-node 1 --dir "$D" >/dev/null
  echo "node 1 back in $((SECONDS - t))s"
  "$K" status --dir "$D" >/dev/null || fail "status not 0 after start-node 1"
fi

step "stop"
pids=()
for ((i = 0; i < NODES; i++)); do pids+=("$("$K" pid "$i" --dir "$D")"); done
t=$SECONDS
"$K" stop --dir "$D"
echo "stopped in $((SECONDS - t))s"
for p in "${pids[@]}"; do pid_gone "$p" || fail "pid $p still alive after stop"; done
rc=0
"$K" status --dir "$D" >/dev/null || rc=$?
((rc == 3)) || fail "status exited $rc after stop, expected 3"
ls "$D"/node-*/pid >/dev/null 2>&1 && fail "pid files left after stop"
"$K" stop --dir "$D" || fail "stop on a stopped cluster should exit 0"

step "restart keeps the data"
out=$("$K" start --dir "$D")
[[ $(tail -n 1 <<<"$out") == "$EXPECTED_BOOTSTRAP" ]] || fail "restart printed: $out"
got=$(consume_all "$B" t "${#MSGS[@]}" | sort)
want=$(printf '%s\n' "${MSGS[@]}" | sort)
[[ $got == "$want" ]] || fail "after restart consumed '$got', expected '$want'"
"$K" stop --dir "$D" >/dev/null
STEP="done"
