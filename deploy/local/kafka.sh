#!/usr/bin/env bash
# Runs a real Apache Kafka 4.4.0 broker (KRaft, combined broker+controller) on this machine from
# the Maven Central jars: no Docker, no release tarball. Everything a cluster writes lives under
# one directory (--dir), so tests can run side by side on different ports and dirs.
# Run `kafka.sh --help` for the commands.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
LIBS_DIR="$SCRIPT_DIR/libs"
POM="$SCRIPT_DIR/pom.xml"
BROKER_LOG4J="$SCRIPT_DIR/log4j2.yaml"
TOOLS_LOG4J="$SCRIPT_DIR/tools-log4j2.yaml"
# Lock and temp dirs live in the git-ignored .kafka/ so a resolve in progress never shows up in
# `git status`; being inside the repo keeps the final rename on one filesystem (atomic).
STATE_ROOT="$REPO_ROOT/.kafka"
DEFAULT_DIR="${KAFKA_LOCAL_DIR:-$STATE_ROOT/default}"

# Small heaps: the CI box has 2 cores and tests run three brokers plus services at once.
BROKER_JVM=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -XX:InitiatingHeapOccupancyPercent=35 -Xshare:auto -Djava.awt.headless=true
  # A broker that ran out of heap limps on and hangs tests; exiting makes `status` show it.
  -XX:+ExitOnOutOfMemoryError
  # Plain IPv4 sockets, so `ss` shows 127.0.0.1:P rather than [::ffff:127.0.0.1]:P.
  -Djava.net.preferIPv4Stack=true)
# Extra broker JVM flags, e.g. KAFKA_BROKER_JAVA_OPTS=-XX:TieredStopAtLevel=1 for quicker starts.
read -r -a _extra <<<"${KAFKA_BROKER_JAVA_OPTS:-}"
BROKER_JVM+=("${_extra[@]}")
# C1 only and the serial collector: a CLI tool lives ~1-2 s, so JIT and GC warm-up are waste.
TOOL_JVM=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Djava.awt.headless=true)
# The perf tools measure the client, which C1-only code would make the bottleneck.
PERF_JVM=(-Xmx256m -XX:+UseG1GC -Xshare:auto -Djava.awt.headless=true)

START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

# The brokers authenticate to each other with this one; clients may use any enabled mechanism.
SCRAM_MECH=SCRAM-SHA-256
# Every user gets credentials for both SCRAM mechanisms at format time, whichever are enabled.
SCRAM_MECHS=(SCRAM-SHA-256 SCRAM-SHA-512)
ADMIN_USER=admin
ADMIN_PASS=admin-secret
ALICE_USER=alice
ALICE_PASS=alice-secret
# PLAIN is enabled next to SCRAM for librdkafka before 2.6.1, which fails SCRAM against this
# broker with "invalid credentials" while the Java client logs in with the same user (Kafka 4.x
# checks the SCRAM nonce strictly and those versions send a malformed one). Debian 12's kcat and
# python3-confluent-kafka load its librdkafka 2.0.2; the services run on 2.14.2 and log in with
# either SCRAM mechanism. --sasl-mechanisms SCRAM-SHA-256,SCRAM-SHA-512 makes the cluster
# SCRAM-only (then kcat on 2.0.2 cannot log in, and kafka.sh uses the Java tools instead).
DEFAULT_SASL_MECHS="SCRAM-SHA-256,SCRAM-SHA-512,PLAIN"

usage() {
  cat <<EOF
Usage: kafka.sh COMMAND [options]

Runs Apache Kafka 4.4.0 (KRaft, combined broker+controller nodes) from the Maven Central jars.

Commands:
  start  [--nodes N] [--port P] [--dir D] [--sasl] [--sasl-mechanisms M,...] [--fresh]
         [--timeout S]
         Start a cluster (formatting its storage the first time) and return once every node
         answers metadata requests. Prints the bootstrap address as the last stdout line.
         Node i (0-based) listens on 127.0.0.1:P+2i (clients) and 127.0.0.1:P+2i+1 (controller).
         On a dir with a stopped cluster it restarts it keeping its data; if it already runs it
         says so and exits 0. --fresh stops it and wipes the dir first.
         --sasl: SASL on the client listener (the controller listener stays PLAINTEXT), users
         admin/admin-secret and alice/alice-secret, mechanisms SCRAM-SHA-256, SCRAM-SHA-512
         and PLAIN (PLAIN because librdkafka < 2.6.1, e.g. Debian 12's 2.0.2 that kcat loads,
         cannot do SCRAM with Kafka 4.x). The brokers use SCRAM-SHA-256 between themselves.
         --sasl-mechanisms M,... (implies --sasl) enables only those; SCRAM-SHA-256 must be one.
  stop   [--dir D]              SIGTERM every node (SIGKILL after ${STOP_TIMEOUT}s); exit 0 if none ran.
  status [--dir D]              One line per node; exit 0 if all run, 3 otherwise.
  stop-node I  [--dir D]        Stop node I (0-based) of a cluster, keeping its data.
  start-node I [--dir D] [--timeout S]
                                Start node I again; returns once it answers.
  pid I [--dir D]               Print node I's pid (exit 1 if it is not running).
  cli [--dir D] TOOL [args...]  Run a Kafka CLI tool. Adds --bootstrap-server from D/bootstrap
                                unless given, and on a --sasl cluster an admin client config
                                (--command-config) unless a config file is given.
  libs                          Resolve the jars into deploy/local/libs (once) and print that dir.

Defaults: --nodes 1, --port 9092, --dir \$KAFKA_LOCAL_DIR or <repo>/.kafka/default.
Environment: KAFKA_START_TIMEOUT (s, default 90), KAFKA_STOP_TIMEOUT (s, default 30),
  KAFKA_BROKER_JAVA_OPTS (extra broker JVM flags), KAFKA_LOCAL_DIR (default --dir).

Tools: $(printf '%s ' "${!TOOL_CLASS[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')
Examples:
  kafka.sh start
  kafka.sh cli kafka-topics --list
  kafka.sh cli kafka-console-consumer --topic orders --from-beginning
  kafka.sh start --nodes 3 --port 19092 --dir /tmp/k3
EOF
}

# Class names checked against the 4.4.0 jars (unzip -l + javap for main). kafka-configs moved
# from kafka.admin to org.apache.kafka.tools in the 4.x line; kafka-storage stays in kafka_2.13.
declare -A TOOL_CLASS=(
  [kafka-topics]=org.apache.kafka.tools.TopicCommand
  [kafka-console-consumer]=org.apache.kafka.tools.consumer.ConsoleConsumer
  [kafka-console-producer]=org.apache.kafka.tools.ConsoleProducer
  [kafka-consumer-groups]=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
  [kafka-configs]=org.apache.kafka.tools.ConfigCommand
  [kafka-producer-perf-test]=org.apache.kafka.tools.ProducerPerformance
  [kafka-consumer-perf-test]=org.apache.kafka.tools.ConsumerPerformance
  [kafka-e2e-latency]=org.apache.kafka.tools.EndToEndLatency
  [kafka-metadata-quorum]=org.apache.kafka.tools.MetadataQuorumCommand
  [kafka-get-offsets]=org.apache.kafka.tools.GetOffsetShell
  [kafka-storage]=kafka.tools.StorageTool
  [kafka-broker-api-versions]=org.apache.kafka.tools.BrokerApiVersionsCommand
  [kafka-transactions]=org.apache.kafka.tools.TransactionsCommand
  [kafka-delete-records]=org.apache.kafka.tools.DeleteRecordsCommand
  [kafka-leader-election]=org.apache.kafka.tools.LeaderElectionCommand
  [kafka-log-dirs]=org.apache.kafka.tools.LogDirsCommand
  [kafka-features]=org.apache.kafka.tools.FeatureCommand
  [kafka-acls]=org.apache.kafka.tools.AclCommand
  [kafka-dump-log]=org.apache.kafka.tools.DumpLogSegments
)

log() { echo "kafka.sh: $*" >&2; }
die() {
  echo "kafka.sh: error: $*" >&2
  exit 1
}
usage_error() {
  echo "kafka.sh: $*" >&2
  cat >&2 <<EOF
Usage: kafka.sh start  [--nodes N] [--port P] [--dir D] [--sasl] [--fresh]
       kafka.sh stop|status [--dir D]
       kafka.sh stop-node|start-node|pid I [--dir D]
       kafka.sh cli [--dir D] TOOL [args...]
       kafka.sh libs
Run 'kafka.sh --help' for details.
EOF
  exit 2
}
have() { command -v "$1" >/dev/null 2>&1; }
# Seconds since an $EPOCHREALTIME stamp, one decimal.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------------------------
# Jars

libs_complete() {
  [[ -f $LIBS_DIR/.pom.sha256 ]] &&
    [[ $(<"$LIBS_DIR/.pom.sha256") == "$(sha256sum <"$POM" | cut -d' ' -f1)" ]]
}

resolve_libs() {
  have java || die "java not found (Java 17+ is needed)"
  libs_complete && return 0
  have mvn || die "mvn not found (install maven, e.g. deploy/install-deps.sh)"
  mkdir -p "$STATE_ROOT"
  # Parallel ctest jobs all land here on a fresh checkout: one resolves, the others wait for it
  # and then find the finished dir. The subshell keeps fd 9 (the lock) away from any broker.
  (
    flock -w 600 9 || die "timed out waiting for $STATE_ROOT/libs.lock"
    libs_complete && exit 0
    log "resolving Kafka jars with Maven into $LIBS_DIR (once)"
    tmp=$(mktemp -d "$STATE_ROOT/libs.tmp.XXXXXX")
    if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
      cat "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      die "mvn dependency:copy-dependencies failed"
    fi
    rm -f "$tmp.log"
    sha256sum <"$POM" | cut -d' ' -f1 >"$tmp/.pom.sha256"
    # Rename so that nobody ever sees a half-copied libs dir.
    if [[ -e $LIBS_DIR ]]; then
      old=$(mktemp -d "$STATE_ROOT/libs.old.XXXXXX")
      mv -T "$LIBS_DIR" "$old/libs"
      mv -T "$tmp" "$LIBS_DIR"
      rm -rf "$old"
    else
      mv -T "$tmp" "$LIBS_DIR"
    fi
  ) 9>"$STATE_ROOT/libs.lock"
  libs_complete || die "jar resolution did not complete"
}

# ---------------------------------------------------------------------------------------------
# Cluster state: DIR/cluster.env records what `start` created, so every later command (and a
# restart) uses the same node count, ports, ids and security without being told again.

DIR=""
NODES=""
PORT=""
SASL=""
SASL_MECHS=""
CLUSTER_ID=""
DIR_IDS=""

set_dir() {
  local d=$1
  [[ -n $d ]] || usage_error "--dir needs a value"
  case $d in /*) ;; *) d="$PWD/$d" ;; esac
  DIR=$d
}

load_state() {
  local key val
  [[ -f $DIR/cluster.env ]] || return 1
  while IFS='=' read -r key val; do
    case $key in
      NODES) NODES=$val ;;
      PORT) PORT=$val ;;
      SASL) SASL=$val ;;
      SASL_MECHS) SASL_MECHS=$val ;;
      CLUSTER_ID) CLUSTER_ID=$val ;;
      DIR_IDS) DIR_IDS=$val ;;
    esac
  done <"$DIR/cluster.env"
  [[ $NODES =~ ^[0-9]+$ && $PORT =~ ^[0-9]+$ && -n $CLUSTER_ID ]] ||
    die "$DIR/cluster.env is damaged; use 'start --fresh' to recreate the cluster"
}

save_state() {
  local tmp="$DIR/cluster.env.tmp"
  {
    echo "# Written by deploy/local/kafka.sh; read back by every command on this dir."
    echo "KAFKA_VERSION=4.4.0"
    echo "NODES=$NODES"
    echo "PORT=$PORT"
    echo "SASL=$SASL"
    echo "SASL_MECHS=$SASL_MECHS"
    echo "CLUSTER_ID=$CLUSTER_ID"
    echo "DIR_IDS=$DIR_IDS"
  } >"$tmp"
  mv -f "$tmp" "$DIR/cluster.env"
}

need_state() {
  load_state || die "no cluster in $DIR (run: kafka.sh start --dir $DIR)"
}

client_port() { echo $((PORT + 2 * $1)); }
controller_port() { echo $((PORT + 2 * $1 + 1)); }
node_dir() { echo "$DIR/node-$1"; }

bootstrap_list() {
  local i out=""
  for ((i = 0; i < NODES; i++)); do out+="${out:+,}127.0.0.1:$(client_port "$i")"; done
  echo "$out"
}

# Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding. Made here rather
# than with `StorageTool random-uuid` because each of those is a ~1 s JVM start. Kafka itself
# never hands out ids starting with '-' (they read like CLI flags), so neither do we.
random_uuid() {
  local u
  while :; do
    u=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $u == -* ]] || break
  done
  echo "$u"
}

# ---------------------------------------------------------------------------------------------
# Processes. Only pids recorded in DIR/node-I/pid are ever signalled, and only after checking
# that the pid still is that node's JVM (pids get reused; a zombie is as good as gone).

pid_is_node() {
  local pid=$1 props=$2 stat state cmd
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r /proc/$pid/stat ]] || return 0
  stat=$(<"/proc/$pid/stat") || return 1
  state=${stat##*) }
  state=${state%% *}
  [[ $state != Z ]] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline") || return 1
  [[ $cmd == *kafka.Kafka* && $cmd == *"$props"* ]]
}

# Prints node I's pid if it runs; fails otherwise.
node_pid() {
  local nd pid
  nd=$(node_dir "$1")
  [[ -s $nd/pid ]] || return 1
  read -r pid <"$nd/pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pid_is_node "$pid" "$nd/server.properties" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stops the given nodes together: stopping them one by one would leave the last ones without a
# controller quorum, so they would sit out the controlled-shutdown timeout anyway.
stop_nodes() {
  local i pid deadline
  local -a live=()
  for i in "$@"; do
    if pid=$(node_pid "$i"); then
      kill -TERM "$pid" 2>/dev/null || true
      live+=("$i:$pid")
    else
      rm -f "$(node_dir "$i")/pid"
    fi
  done
  ((${#live[@]})) || return 0
  deadline=$((SECONDS + STOP_TIMEOUT))
  local -a still
  local killed=0 e k
  while :; do
    still=()
    for e in "${live[@]}"; do
      pid_is_node "${e#*:}" "$(node_dir "${e%%:*}")/server.properties" && still+=("$e")
    done
    ((${#still[@]})) || break
    if ((SECONDS >= deadline)); then
      if ((killed)); then
        log "pid(s) ${still[*]#*:} survive SIGKILL; giving up"
        return 1
      fi
      for e in "${still[@]}"; do
        log "node ${e%%:*} (pid ${e#*:}) ignored SIGTERM for ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "${e#*:}" 2>/dev/null || true
      done
      killed=1
      deadline=$((SECONDS + 10))
    fi
    sleep 0.2
  done
  # An exited JVM can linger as a zombie until init reaps it; give that a moment so callers
  # checking `kill -0 PID` right after stop see it gone.
  for e in "${live[@]}"; do
    for ((k = 0; k < 20; k++)); do
      [[ -e /proc/${e#*:} ]] || break
      sleep 0.1
    done
    rm -f "$(node_dir "${e%%:*}")/pid"
    log "stopped node ${e%%:*} (pid ${e#*:})"
  done
}

write_server_properties() {
  local i=$1 nd cport kport proto rf min_isr voters="" j tmp
  nd=$(node_dir "$i")
  cport=$(client_port "$i")
  kport=$(controller_port "$i")
  for ((j = 0; j < NODES; j++)); do voters+="${voters:+,}127.0.0.1:$(controller_port "$j")"; done
  proto=PLAINTEXT
  [[ $SASL == 1 ]] && proto=SASL_PLAINTEXT
  rf=$((NODES < 3 ? NODES : 3))
  min_isr=$((rf >= 3 ? 2 : 1))
  mkdir -p "$nd/data" "$nd/logs"
  tmp="$nd/server.properties.tmp"
  {
    cat <<EOF
# Generated by deploy/local/kafka.sh before every start of this node: edits are overwritten.
process.roles=broker,controller
node.id=$((i + 1))
controller.quorum.bootstrap.servers=$voters
controller.listener.names=CONTROLLER
# Loopback only: a test broker must never be reachable from the network.
listeners=$proto://127.0.0.1:$cport,CONTROLLER://127.0.0.1:$kport
advertised.listeners=$proto://127.0.0.1:$cport,CONTROLLER://127.0.0.1:$kport
inter.broker.listener.name=$proto
listener.security.protocol.map=CONTROLLER:PLAINTEXT,$proto:$proto
log.dirs=$nd/data

num.partitions=3
# The services create their topics through the Admin API with explicit partitions and
# replication; auto-creation would hide a missing create (and invent a 3-partition topic).
auto.create.topics.enable=false
# Default 3 s: every test's first consumer group join would wait for it.
group.initial.rebalance.delay.ms=0
# KIP-848 groups: the broker times sessions and heartbeats (defaults 45 s / 5 s, kept). The
# minimums are lowered so that one group can choose a shorter session (kafka-configs
# --entity-type groups), as the fault tests do for a stalled Tracker.
group.consumer.min.session.timeout.ms=6000
group.consumer.min.heartbeat.interval.ms=1000
# Internal topics default to replication 3 / min ISR 2, which fewer than 3 nodes cannot host.
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
default.replication.factor=$rf
# min.insync.replicas stays at its default (1): the durability tests set it per topic.
EOF
    if [[ $SASL == 1 ]]; then
      cat <<EOF

# SASL on the client (and inter-broker) listener; brokers talk to each other with SCRAM as admin.
sasl.enabled.mechanisms=$SASL_MECHS
sasl.mechanism.inter.broker.protocol=$SCRAM_MECH
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$ADMIN_USER" password="$ADMIN_PASS";
EOF
      if mech_enabled SCRAM-SHA-512; then
        cat <<EOF
# The broker needs a login module for every enabled mechanism; SCRAM checks the stored credentials.
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$ADMIN_USER" password="$ADMIN_PASS";
EOF
      fi
      if plain_enabled; then
        cat <<EOF
# PLAIN for librdkafka < 2.6.1 clients (see kafka.sh); same users as SCRAM.
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$ADMIN_USER" password="$ADMIN_PASS" user_$ADMIN_USER="$ADMIN_PASS" user_$ALICE_USER="$ALICE_PASS";
EOF
      fi
    fi
  } >"$tmp"
  mv -f "$tmp" "$nd/server.properties"
}

write_client_config() {
  [[ $SASL == 1 ]] || {
    rm -f "$DIR/client-admin.properties"
    return 0
  }
  cat >"$DIR/client-admin.properties" <<EOF
# Admin credentials for clients of this SASL cluster (used by 'kafka.sh cli').
security.protocol=SASL_PLAINTEXT
sasl.mechanism=$SCRAM_MECH
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$ADMIN_USER" password="$ADMIN_PASS";
EOF
}

# Formats node I's storage unless it already is: a restarted cluster keeps its data.
format_node() {
  local i=$1 nd j ids
  nd=$(node_dir "$i")
  [[ -f $nd/data/meta.properties ]] && return 0
  local -a args=(format --ignore-formatted -t "$CLUSTER_ID" -c "$nd/server.properties")
  if ((NODES == 1)); then
    args+=(--standalone)
  else
    # Dynamic quorum (KIP-853): every node is told the full initial voter set with each voter's
    # metadata directory id, so the N nodes agree on the quorum from the first start.
    read -r -a ids <<<"$DIR_IDS"
    local voters=""
    for ((j = 0; j < NODES; j++)); do
      voters+="${voters:+,}$((j + 1))@127.0.0.1:$(controller_port "$j"):${ids[j]}"
    done
    args+=(--initial-controllers "$voters")
  fi
  if [[ $SASL == 1 ]]; then
    # SCRAM users must exist in the bootstrap metadata: the broker authenticates itself as admin
    # before anyone could create them through the Admin API. Both mechanisms get credentials, so
    # a client can pick either one.
    local m
    for m in "${SCRAM_MECHS[@]}"; do
      args+=(--add-scram "$m=[name=$ADMIN_USER,password=$ADMIN_PASS]"
        --add-scram "$m=[name=$ALICE_USER,password=$ALICE_PASS]")
    done
  fi
  if ! java "${TOOL_JVM[@]}" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS_DIR/*" \
    kafka.tools.StorageTool "${args[@]}" >"$nd/format.log" 2>&1; then
    cat "$nd/format.log" >&2
    return 1
  fi
}

launch_node() {
  local i=$1 nd k
  nd=$(node_dir "$i")
  rm -f "$nd/pid"
  echo "=== $(date '+%F %T') starting node $i" >>"$nd/stdout.log"
  # setsid: own session, so the broker outlives this script and a Ctrl-C aimed at the caller
  # does not reach it. The inner bash records its own pid and execs java, so the pid file holds
  # the JVM's pid even when setsid has to fork. 8>&- keeps the start lock out of the broker.
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka-node "$nd/pid" \
    java "${BROKER_JVM[@]}" -Dkafka.logs.dir="$nd/logs" -Dlog4j2.configurationFile="$BROKER_LOG4J" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$nd/server.properties" \
    </dev/null >>"$nd/stdout.log" 2>&1 8>&- &
  for ((k = 0; k < 100; k++)); do
    [[ -s $nd/pid ]] && return 0
    sleep 0.05
  done
  die "node $i did not record its pid"
}

mech_enabled() { [[ ,$SASL_MECHS, == *,$1,* ]]; }
plain_enabled() { mech_enabled PLAIN; }

# kcat (librdkafka 2.0.2 on Debian 12) can only log in with PLAIN, see DEFAULT_SASL_MECHS.
kcat_usable() { have kcat && { [[ $SASL != 1 ]] || plain_enabled; }; }

kcat_security() {
  if [[ $SASL == 1 ]]; then
    printf '%s\n' -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
      -X "sasl.username=$ADMIN_USER" -X "sasl.password=$ADMIN_PASS"
  fi
}

# Number of live (registered, unfenced) brokers in the metadata that the broker on PORT itself
# serves; fails if it does not answer.
broker_count() {
  local port=$1 out n
  if kcat_usable; then
    local -a sec
    mapfile -t sec < <(kcat_security)
    out=$(kcat -b "127.0.0.1:$port" "${sec[@]}" -L -m 2 2>/dev/null) || return 1
    # The answer must come from that broker, not from another one librdkafka switched to.
    # (kcat names it "127.0.0.1:P/id", or "sasl_plaintext://127.0.0.1:P/id" with SASL.)
    [[ $out == *"Metadata for all topics (from broker "*[\ /]"127.0.0.1:$port/"* ]] || return 1
    n=$(sed -n 's/^ \([0-9][0-9]*\) brokers:$/\1/p' <<<"$out" | head -n 1)
  else
    local -a cfg=()
    [[ $SASL == 1 ]] && cfg=(--command-config "$DIR/client-admin.properties")
    out=$(java "${TOOL_JVM[@]}" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS_DIR/*" \
      org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$port" \
      "${cfg[@]}" 2>/dev/null) || return 1
    n=$(grep -c '^127\.0\.0\.1:[0-9]* (id: ' <<<"$out" || true)
  fi
  [[ -n $n ]] || return 1
  echo "$n"
}

running_count() {
  local i n=0
  for ((i = 0; i < NODES; i++)); do node_pid "$i" >/dev/null && n=$((n + 1)); done
  echo "$n"
}

show_logs() {
  local i nd
  for i in "$@"; do
    nd=$(node_dir "$i")
    echo "----- node $i: last errors in $nd/logs/server.log" >&2
    grep -E '^\[[^]]*\] (ERROR|FATAL)' "$nd/logs/server.log" 2>/dev/null | tail -n 5 >&2 || true
    echo "----- node $i: tail of $nd/logs/server.log" >&2
    tail -n 30 "$nd/logs/server.log" >&2 2>/dev/null || echo "(no server.log)" >&2
    echo "----- node $i: tail of $nd/stdout.log" >&2
    tail -n 15 "$nd/stdout.log" >&2 2>/dev/null || true
  done
}

# Waits until each given node answers on its client port and sees every running node of the
# cluster as a live broker. Fails early if a node's JVM dies.
wait_ready() {
  local deadline=$1 i port want got
  shift
  for i in "$@"; do
    port=$(client_port "$i")
    while :; do
      node_pid "$i" >/dev/null || {
        log "node $i exited during startup"
        return 1
      }
      if port_open "$port" && got=$(broker_count "$port"); then
        want=$(running_count)
        ((got >= want)) && break
      fi
      ((SECONDS < deadline)) || {
        log "node $i did not become ready within the timeout"
        return 1
      }
      sleep 0.3
    done
  done
}

take_start_lock() {
  mkdir -p "$DIR"
  exec 8>"$DIR/.lock"
  flock -w $((START_TIMEOUT + 60)) 8 || die "another kafka.sh is starting the cluster in $DIR"
}

# Starts the given nodes (which must not be running) and waits for them; on failure shows the
# logs, stops exactly these nodes and exits 1.
start_and_wait() {
  local started=("$@") t0=$EPOCHREALTIME i port
  local deadline=$((SECONDS + START_TIMEOUT))
  for i in "${started[@]}"; do
    for port in "$(client_port "$i")" "$(controller_port "$i")"; do
      port_open "$port" && die "port $port (node $i) is already in use on 127.0.0.1"
    done
  done
  # Ctrl-C or a test timeout while waiting must not leave half a cluster behind.
  trap 'log "interrupted, stopping the nodes just started"; stop_nodes "${started[@]}"; exit 130' INT TERM
  for i in "${started[@]}"; do launch_node "$i"; done
  if ! wait_ready "$deadline" "${started[@]}"; then
    show_logs "${started[@]}"
    stop_nodes "${started[@]}"
    trap - INT TERM
    die "start failed; logs are under $DIR/node-*/logs"
  fi
  trap - INT TERM
  log "node(s) ${started[*]} ready in $(elapsed "$t0")s"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() {
  local nodes="" port="" sasl="" mechs="" fresh=0 i t_cmd=$EPOCHREALTIME
  DIR=$DEFAULT_DIR
  while (($#)); do
    case $1 in
      --nodes) nodes=${2-}; shift 2 || usage_error "--nodes needs a value" ;;
      --nodes=*) nodes=${1#*=}; shift ;;
      --port) port=${2-}; shift 2 || usage_error "--port needs a value" ;;
      --port=*) port=${1#*=}; shift ;;
      --dir) set_dir "${2-}"; shift 2 ;;
      --dir=*) set_dir "${1#*=}"; shift ;;
      --timeout) START_TIMEOUT=${2-}; shift 2 || usage_error "--timeout needs a value" ;;
      --timeout=*) START_TIMEOUT=${1#*=}; shift ;;
      --sasl) sasl=1; shift ;;
      --sasl-mechanisms) sasl=1; mechs=${2-}; shift 2 || usage_error "--sasl-mechanisms needs a value" ;;
      --sasl-mechanisms=*) sasl=1; mechs=${1#*=}; shift ;;
      --fresh) fresh=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "start: unknown argument '$1'" ;;
    esac
  done
  [[ -z $nodes || $nodes =~ ^[1-9]$ ]] || usage_error "--nodes must be 1..9"
  [[ -z $port || ($port =~ ^[0-9]+$ && $port -ge 1024) ]] || usage_error "--port must be a number >= 1024"
  [[ $START_TIMEOUT =~ ^[0-9]+$ ]] || usage_error "--timeout must be seconds"
  if [[ -n $mechs ]]; then
    [[ ,$mechs, == *,$SCRAM_MECH,* ]] ||
      usage_error "--sasl-mechanisms must include $SCRAM_MECH (the brokers use it between themselves)"
    [[ $mechs =~ ^(SCRAM-SHA-256|SCRAM-SHA-512|PLAIN)(,(SCRAM-SHA-256|SCRAM-SHA-512|PLAIN))*$ ]] ||
      usage_error "--sasl-mechanisms: only SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN are set up"
  fi

  resolve_libs

  if ((fresh)) && [[ -e $DIR ]]; then
    # Refuse to wipe a directory this script did not create (a typo in --dir must not rm -rf).
    if [[ -n $(ls -A "$DIR" 2>/dev/null) && ! -f $DIR/.kafka-local ]]; then
      die "--fresh: $DIR is not a kafka.sh cluster dir; not wiping it"
    fi
    if load_state; then
      local -a running=()
      for ((i = 0; i < NODES; i++)); do running+=("$i"); done
      stop_nodes "${running[@]}"
    fi
    rm -rf "$DIR"
    NODES="" PORT="" SASL="" SASL_MECHS="" CLUSTER_ID="" DIR_IDS=""
  fi

  take_start_lock
  touch "$DIR/.kafka-local"

  if load_state; then
    # A cluster exists here: its node count, ports and security are fixed by its metadata.
    if [[ -n $nodes && $nodes != "$NODES" ]] || [[ -n $port && $port != "$PORT" ]] ||
      [[ -n $sasl && $sasl != "$SASL" ]] || [[ -n $mechs && $mechs != "$SASL_MECHS" ]]; then
      local state="running"
      (($(running_count) > 0)) || state="stopped"
      die "$DIR holds a $state ${NODES}-node cluster on port $PORT (sasl=$SASL); stop it and use 'start --fresh' to recreate it, or use another --dir"
    fi
  else
    NODES=${nodes:-1}
    PORT=${port:-9092}
    SASL=${sasl:-0}
    SASL_MECHS=""
    [[ $SASL == 1 ]] && SASL_MECHS=${mechs:-$DEFAULT_SASL_MECHS}
    CLUSTER_ID=$(random_uuid)
    DIR_IDS=""
    for ((i = 0; i < NODES; i++)); do DIR_IDS+="${DIR_IDS:+ }$(random_uuid)"; done
    save_state
  fi
  (($(controller_port $((NODES - 1))) <= 65535)) || usage_error "--port $PORT is too high for $NODES nodes"

  write_client_config
  local -a todo=() all=()
  for ((i = 0; i < NODES; i++)); do
    all+=("$i")
    node_pid "$i" >/dev/null || todo+=("$i")
  done

  if ((${#todo[@]} == 0)); then
    log "already running in $DIR ($NODES node(s), port $PORT)"
    if ! wait_ready $((SECONDS + START_TIMEOUT)) "${all[@]}"; then
      die "the cluster in $DIR runs but does not answer"
    fi
  else
    local -a fpids=()
    for i in "${todo[@]}"; do write_server_properties "$i"; done
    # Formatting is a JVM start per node; run them side by side.
    for i in "${todo[@]}"; do
      format_node "$i" &
      fpids+=($!)
    done
    for i in "${!fpids[@]}"; do
      wait "${fpids[i]}" || die "formatting node ${todo[i]} failed"
    done
    start_and_wait "${todo[@]}"
    log "cluster in $DIR up in $(elapsed "$t_cmd")s"
  fi
  bootstrap_list >"$DIR/bootstrap"
  bootstrap_list
}

# Parses [--dir D] and an optional node index for the per-node and read-only commands.
NODE_ARG=""
parse_dir_and_node() {
  local cmd=$1 want_node=$2
  shift 2
  DIR=$DEFAULT_DIR
  NODE_ARG=""
  while (($#)); do
    case $1 in
      --dir) set_dir "${2-}"; shift 2 ;;
      --dir=*) set_dir "${1#*=}"; shift ;;
      --timeout) START_TIMEOUT=${2-}; shift 2 || usage_error "--timeout needs a value" ;;
      --timeout=*) START_TIMEOUT=${1#*=}; shift ;;
      -h | --help) usage; exit 0 ;;
      [0-9]*)
        [[ $want_node == 1 && -z $NODE_ARG && $1 =~ ^[0-9]+$ ]] ||
          usage_error "$cmd: unexpected argument '$1'"
        NODE_ARG=$1
        shift
        ;;
      *) usage_error "$cmd: unknown argument '$1'" ;;
    esac
  done
  [[ $START_TIMEOUT =~ ^[0-9]+$ ]] || usage_error "--timeout must be seconds"
  if [[ $want_node == 1 ]]; then
    [[ -n $NODE_ARG ]] || usage_error "$cmd: node index I missing"
  fi
}

check_node_index() {
  ((NODE_ARG < NODES)) || die "node $NODE_ARG does not exist (the cluster in $DIR has nodes 0..$((NODES - 1)))"
}

cmd_stop() {
  parse_dir_and_node stop 0 "$@"
  if ! load_state; then
    log "no cluster in $DIR, nothing to stop"
    return 0
  fi
  local -a all=()
  local i
  for ((i = 0; i < NODES; i++)); do all+=("$i"); done
  if (($(running_count) == 0)); then
    for i in "${all[@]}"; do rm -f "$(node_dir "$i")/pid"; done
    log "nothing running in $DIR"
    return 0
  fi
  stop_nodes "${all[@]}"
}

cmd_status() {
  parse_dir_and_node status 0 "$@"
  if ! load_state; then
    echo "no cluster in $DIR"
    return 3
  fi
  local i pid up=0 sec=""
  [[ $SASL == 1 ]] && sec=", sasl $SASL_MECHS"
  echo "cluster in $DIR: $NODES node(s)$sec, bootstrap $(bootstrap_list)"
  for ((i = 0; i < NODES; i++)); do
    if pid=$(node_pid "$i"); then
      up=$((up + 1))
      echo "node $i: running pid $pid port $(client_port "$i") (controller $(controller_port "$i"))"
    else
      echo "node $i: stopped port $(client_port "$i") (controller $(controller_port "$i"))"
    fi
  done
  ((up == NODES)) || return 3
}

cmd_stop_node() {
  parse_dir_and_node stop-node 1 "$@"
  need_state
  check_node_index
  node_pid "$NODE_ARG" >/dev/null || {
    log "node $NODE_ARG is not running"
    rm -f "$(node_dir "$NODE_ARG")/pid"
    return 0
  }
  stop_nodes "$NODE_ARG"
}

cmd_start_node() {
  parse_dir_and_node start-node 1 "$@"
  need_state
  check_node_index
  resolve_libs
  take_start_lock
  if node_pid "$NODE_ARG" >/dev/null; then
    log "node $NODE_ARG already running"
    wait_ready $((SECONDS + START_TIMEOUT)) "$NODE_ARG" || die "node $NODE_ARG runs but does not answer"
    return 0
  fi
  write_client_config
  write_server_properties "$NODE_ARG"
  format_node "$NODE_ARG" || die "formatting node $NODE_ARG failed"
  start_and_wait "$NODE_ARG"
}

cmd_pid() {
  parse_dir_and_node pid 1 "$@"
  need_state
  check_node_index
  node_pid "$NODE_ARG" || die "node $NODE_ARG is not running"
}

cmd_libs() {
  (($# == 0)) || usage_error "libs takes no arguments"
  resolve_libs
  echo "$LIBS_DIR"
}

# has_opt "NAME..." ARGS...: does ARGS hold one of the space-separated NAMEs (or NAME=value)?
has_opt() {
  local -a names
  read -r -a names <<<"$1"
  shift
  local a n
  for a in "$@"; do
    for n in "${names[@]}"; do
      [[ $a == "$n" || $a == "$n="* ]] && return 0
    done
  done
  return 1
}

cmd_cli() {
  DIR=$DEFAULT_DIR
  while (($#)); do
    case $1 in
      --dir) set_dir "${2-}"; shift 2 ;;
      --dir=*) set_dir "${1#*=}"; shift ;;
      -h | --help) usage; exit 0 ;;
      *) break ;;
    esac
  done
  (($#)) || usage_error "cli: TOOL missing"
  local tool=$1
  shift
  local class=${TOOL_CLASS[$tool]:-}
  [[ -n $class ]] || usage_error "cli: unknown tool '$tool'"
  resolve_libs

  local -a pre=() post=() jvm=("${TOOL_JVM[@]}")
  case $tool in
    kafka-producer-perf-test | kafka-consumer-perf-test | kafka-e2e-latency) jvm=("${PERF_JVM[@]}") ;;
  esac
  SASL=0
  load_state 2>/dev/null || true
  local helping=0
  has_opt "--help -h --version" "$@" && helping=1

  local bootstrap=""
  if [[ -s $DIR/bootstrap ]]; then bootstrap=$(<"$DIR/bootstrap"); fi
  case $tool in
    kafka-storage | kafka-dump-log) ;;
    kafka-e2e-latency)
      # Positional: bootstrap-server topic num-records producer-acks record-size [config].
      if ((!helping)) && [[ ${1-} != *:* ]]; then
        [[ -n $bootstrap ]] || die "no broker address in $DIR/bootstrap; start one or pass it first"
        pre=("$bootstrap")
      fi
      if [[ $SASL == 1 ]] && (($# + ${#pre[@]} == 5)); then
        post=("$DIR/client-admin.properties")
      fi
      ;;
    *)
      if ((!helping)) && ! has_opt "--bootstrap-server --bootstrap-controller" "$@"; then
        [[ -n $bootstrap ]] ||
          die "no broker address in $DIR/bootstrap: start one (kafka.sh start) or pass --bootstrap-server"
        pre=(--bootstrap-server "$bootstrap")
      fi
      # All these tools take --command-config in 4.4 (the console and perf tools' older
      # --consumer.config/--producer.config are deprecated aliases).
      if [[ $SASL == 1 ]] && ((!helping)) &&
        ! has_opt "--command-config --consumer.config --producer.config --admin.config" "$@"; then
        pre+=(--command-config "$DIR/client-admin.properties")
      fi
      ;;
  esac
  # Injected options go first: argparse-based tools (kafka-metadata-quorum, kafka-features,
  # kafka-transactions) only accept them before the subcommand.
  exec java "${jvm[@]}" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS_DIR/*" \
    "$class" "${pre[@]}" "$@" "${post[@]}"
}

main() {
  (($#)) || usage_error "command missing"
  local cmd=$1
  shift
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    stop-node) cmd_stop_node "$@" ;;
    start-node) cmd_start_node "$@" ;;
    pid) cmd_pid "$@" ;;
    cli) cmd_cli "$@" ;;
    libs) cmd_libs "$@" ;;
    -h | --help | help) usage ;;
    *) usage_error "unknown command '$cmd'" ;;
  esac
}

main "$@"
