#!/bin/sh
# The closing test of a sanitizer build (ORDER_TRACKER_SANITIZERS=ON): fails if any process the
# tests ran, the services they spawned included, left an ASan, LeakSanitizer or UBSan report.
# Every test runs with log_path pointing into REPORT_DIR (tests/CMakeLists.txt), so a report from
# a child whose exit code no test looks at (a service stopped by kill -9 after its report, say)
# is not lost in that child's log.
#   check_reports.sh REPORT_DIR
set -eu
dir="$1"
reports=$(find "$dir" -type f -size +0 2>/dev/null | sort)
if [ -z "$reports" ]; then
  echo "sanitizers: no reports in $dir"
  exit 0
fi
for f in $reports; do
  echo "==== $f"
  head -n 150 "$f"
done
echo "sanitizers: $(echo "$reports" | wc -l) report(s) above, kept in $dir"
exit 1
