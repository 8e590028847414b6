#include "common/kafka/property_scope.hpp"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <unordered_map>

namespace order_tracker::kafka {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// name -> 'C', 'P' or '*', parsed from rd_kafka_conf_properties_show(): "name | C/P | ...".
std::unordered_map<std::string, char> read_property_table() {
  std::unordered_map<std::string, char> table;
  char* text = nullptr;
  std::size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  if (out == nullptr) return table;
  rd_kafka_conf_properties_show(out);
  std::fclose(out);
  std::istringstream lines(std::string(text, size));
  std::free(text);
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find('|');
    if (first == std::string::npos) continue;
    const auto second = line.find('|', first + 1);
    if (second == std::string::npos) continue;
    const auto name = trim(std::string_view(line).substr(0, first));
    const auto scope = trim(std::string_view(line).substr(first + 1, second - first - 1));
    if (name.empty() || scope.size() != 1) continue;
    table.emplace(std::string(name), scope.front());
  }
  return table;
}

}  // namespace

bool property_applies_to(std::string_view name, client_kind kind) {
  // Built once: the table is the loaded library's and never changes while the process runs.
  static const auto table = read_property_table();
  const auto it = table.find(std::string(name));
  if (it == table.end()) return true;
  switch (it->second) {
    case 'C':
      return kind == client_kind::consumer;
    case 'P':
      return kind == client_kind::producer;
    default:
      return true;
  }
}

}  // namespace order_tracker::kafka
