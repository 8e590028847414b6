#!/bin/bash
# Every /opt/kafka/bin/<tool>.sh is a link to this script: it runs the tool's class from the jars,
# as the release tarball's scripts do. kafka-run-class.sh CLASS ARGS... runs any class.
set -euo pipefail

bin=$(cd "$(dirname "$0")" && pwd)
. "$bin/tool-classes.sh"
name=$(basename "$0" .sh)

case "$name" in
  kafka-server-start) exec "$bin/run.sh" ;;
  kafka-run-class)
    class="$1"
    shift
    ;;
  *)
    class="${TOOL_CLASS[$name]:-}"
    [ -n "$class" ] || {
      echo "$name: no such tool here (tools: ${!TOOL_CLASS[*]})" >&2
      exit 2
    }
    ;;
esac

# A tool lives a second or two: C1 only and the serial collector start fastest (as kafka.sh does).
# shellcheck disable=SC2086
exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Djava.awt.headless=true \
  ${KAFKA_TOOL_OPTS:-} -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.yaml \
  -cp '/opt/kafka/libs/*' "$class" "$@"
