#!/usr/bin/env bash
# Builds the project's own Kafka image (deploy/kafka-image/Dockerfile) from the jars
# deploy/local/kafka.sh resolves with Maven, so nothing is downloaded inside the build but Debian's
# Java. Usage: build.sh [IMAGE]   (default order-tracker/kafka:4.4.0; DOCKER= picks the client)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
local_dir="$here/../local"
image="${1:-order-tracker/kafka:4.4.0}"
docker="${DOCKER:-docker}"

libs=$("$local_dir/kafka.sh" libs | tail -1)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$local_dir/pom.xml")
[ -f "$libs/kafka_2.13-$version.jar" ] || {
  echo "kafka-image: $libs has no kafka_2.13-$version.jar" >&2
  exit 1
}

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/bin" "$context/config"
# Hard links where possible: the context is 44 MB of jars.
cp -al "$libs" "$context/libs" 2>/dev/null || cp -a "$libs" "$context/libs"
rm -f "$context/libs/.pom.sha256"
cp "$here/Dockerfile" "$context/"
cp "$here/run.sh" "$here/kafka-tool.sh" "$context/bin/"
cp "$here/log4j2.yaml" "$local_dir/tools-log4j2.yaml" "$here/server.properties.default" "$context/config/"
# The tool table of kafka.sh, the one place that maps tool names to their classes.
sed -n '/^declare -A TOOL_CLASS=(/,/^)/p' "$local_dir/kafka.sh" >"$context/bin/tool-classes.sh"
grep -q kafka-topics "$context/bin/tool-classes.sh" || {
  echo "kafka-image: no TOOL_CLASS table in deploy/local/kafka.sh" >&2
  exit 1
}
"$docker" build -q -t "$image" --label "org.apache.kafka.version=$version" "$context"
echo "kafka-image: built $image (Kafka $version)"
