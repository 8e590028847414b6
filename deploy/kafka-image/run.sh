#!/bin/bash
# The broker's entry point, on the official apache/kafka image's contract: when any KAFKA_* variable
# is set, server.properties is made from the environment alone (KAFKA_FOO_BAR -> foo.bar, '__' ->
# '_', '___' -> '-'); otherwise the image's single-node default is used. The storage is formatted
# once with CLUSTER_ID, then the broker runs in the foreground as PID 1 (SIGTERM: controlled
# shutdown).
set -euo pipefail

config=/opt/kafka/config
props="$config/server.properties"

# JVM and logging settings, not broker properties (the official image skips the same names).
not_props=" KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_LOG4J_OPTS KAFKA_GC_LOG_OPTS
  KAFKA_JMX_OPTS KAFKA_JMX_PORT KAFKA_JMX_HOSTNAME KAFKA_DEBUG KAFKA_VERSION KAFKA_TOOL_OPTS
  KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL "

from_env=()
while IFS='=' read -r name value; do
  [[ $name == KAFKA_* ]] || continue
  [[ $not_props == *" $name "* ]] && continue
  key=${name#KAFKA_}
  key=${key,,}
  key=${key//___/$'\x01'}
  key=${key//__/$'\x02'}
  key=${key//_/.}
  key=${key//$'\x01'/-}
  key=${key//$'\x02'/_}
  from_env+=("$key=$value")
done < <(env)

if ((${#from_env[@]})); then
  printf '%s\n' "${from_env[@]}" | sort >"$props"
else
  cp "$config/server.properties.default" "$props"
fi

prop() { sed -n "s/^$1=//p" "$props" | tail -1; }

log_dirs=$(prop log.dirs)
log_dirs=${log_dirs:-$(prop log.dir)}
format=(-t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$props" --ignore-formatted)
# A combined node without a static voter list bootstraps a quorum of itself.
if [[ -z $(prop controller.quorum.voters) && $(prop process.roles) == *controller* ]]; then
  format+=(--standalone)
fi
if [[ ! -f ${log_dirs%%,*}/meta.properties ]]; then
  /opt/kafka/bin/kafka-storage.sh format "${format[@]}"
fi

# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} \
  ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true} \
  -XX:+ExitOnOutOfMemoryError -Dkafka.logs.dir=/opt/kafka/logs \
  ${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$config/log4j2.yaml} ${KAFKA_OPTS:-} \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
