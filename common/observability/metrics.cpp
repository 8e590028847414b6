#include "common/observability/metrics.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <variant>

namespace order_tracker::observability {

namespace {

bool is_name_start(char c, bool allow_colon) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool is_name_char(char c, bool allow_colon) noexcept {
  return is_name_start(c, allow_colon) || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name, bool allow_colon) noexcept {
  if (name.empty() || !is_name_start(name.front(), allow_colon)) {
    return false;
  }
  return std::all_of(name.begin() + 1, name.end(),
                     [allow_colon](char c) { return is_name_char(c, allow_colon); });
}

void validate_metric_name(std::string_view name) {
  if (!is_valid_name(name, true)) {
    throw std::invalid_argument("metric name \"" + std::string(name) +
                                "\" is invalid: it must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
}

// Labels sorted by name, so the order a caller lists them in does not make a second series.
label_set sorted(label_set labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const label& a, const label& b) { return a.first < b.first; });
  return labels;
}

// Label names are stricter than metric names: no colon, and a leading "__" is reserved for
// Prometheus itself (it would drop or overwrite such labels at scrape time). `labels` is sorted,
// so a name given twice shows up as two neighbours.
void validate_label_names(std::string_view metric, const label_set& labels, bool is_histogram) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& label_name = labels[i].first;
    if (i > 0 && label_name == labels[i - 1].first) {
      throw std::invalid_argument("label \"" + label_name + "\" of metric \"" +
                                  std::string(metric) + "\" is given twice");
    }
    if (!is_valid_name(label_name, false) || label_name.starts_with("__")) {
      throw std::invalid_argument("label name \"" + label_name + "\" of metric \"" +
                                  std::string(metric) +
                                  "\" is invalid: it must match [a-zA-Z_][a-zA-Z0-9_]* and not "
                                  "start with \"__\"");
    }
    if (is_histogram && label_name == "le") {
      throw std::invalid_argument("histogram \"" + std::string(metric) +
                                  "\" cannot have a label named \"le\": it holds the bucket bound");
    }
  }
}

void validate_bucket_bounds(const std::vector<double>& bounds) {
  if (bounds.empty()) {
    throw std::invalid_argument(
        "histogram bucket bounds are empty: give at least one finite bound");
  }
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      throw std::invalid_argument(
          "histogram bucket bounds must be finite: the +Inf bucket is always added");
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be strictly increasing");
    }
  }
}

// Label values escape backslash, double quote and newline; HELP text escapes only backslash and
// newline (format 0.0.4).
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        out += escape_quote ? "\\\"" : "\"";
        break;
      default:
        out += c;
    }
  }
}

void append_integer(std::string& out, std::uint64_t v) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  out.append(buffer, result.ptr);
}

// Go's strconv.ParseFloat, which Prometheus uses, reads every form to_chars writes. Integral
// values print without an exponent as long as a double holds them exactly (2^53), so counters
// read "1000000" rather than "1e+06".
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  constexpr double max_exact_integer = 9007199254740992.0;  // 2^53
  char buffer[32];
  std::to_chars_result result{};
  if (std::trunc(v) == v && std::abs(v) <= max_exact_integer) {
    result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(v));
  } else {
    result = std::to_chars(buffer, buffer + sizeof buffer, v);
  }
  out.append(buffer, result.ptr);
}

std::string format_number(double v) {
  std::string text;
  append_number(text, v);
  return text;
}

// The series key and its rendered form at once: `a="x",b="y"` from sorted labels, without
// braces.
std::string label_text(const label_set& labels) {
  std::string text;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) {
      text += ',';
    }
    text += labels[i].first;
    text += "=\"";
    append_escaped(text, labels[i].second, true);
    text += '"';
  }
  return text;
}

}  // namespace

histogram::histogram(std::vector<double> bucket_bounds) : bounds_(std::move(bucket_bounds)) {
  validate_bucket_bounds(bounds_);
  bucket_counts_.assign(bounds_.size() + 1, 0);
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (!(start > 0) || !(factor > 1) || count == 0) {
    throw std::invalid_argument("exponential_buckets needs start > 0, factor > 1 and count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (std::size_t i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> linear_buckets(double start, double width, std::size_t count) {
  if (!std::isfinite(start) || !(width > 0) || count == 0) {
    throw std::invalid_argument("linear_buckets needs a finite start, width > 0 and count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    // Multiplying rather than accumulating keeps bounds like 0.1 * 3 from drifting.
    bounds.push_back(start + width * static_cast<double>(i));
  }
  return bounds;
}

// Follows Prometheus' bucketQuantile (promql/quantile.go) with one difference: for rank 0 it
// skips leading empty buckets and answers their upper edge, where Prometheus divides 0 by 0 and
// answers NaN.
double quantile(const histogram& h, double q) noexcept {
  if (std::isnan(q)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (q < 0) {
    return -std::numeric_limits<double>::infinity();
  }
  if (q > 1) {
    return std::numeric_limits<double>::infinity();
  }
  if (h.count() == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const auto& bounds = h.bucket_bounds();
  const auto& counts = h.bucket_counts();
  const double rank = q * static_cast<double>(h.count());
  std::uint64_t below = 0;
  for (std::size_t b = 0; b < bounds.size(); ++b) {
    const std::uint64_t in_bucket = counts[b];
    if (in_bucket > 0 && static_cast<double>(below + in_bucket) >= rank) {
      if (b == 0 && bounds[0] <= 0) {
        return bounds[0];
      }
      // The first bucket's lower edge is taken as 0, as Prometheus does.
      const double start = b == 0 ? 0.0 : bounds[b - 1];
      return start + (bounds[b] - start) *
                         ((rank - static_cast<double>(below)) / static_cast<double>(in_bucket));
    }
    below += in_bucket;
  }
  // The rank is in the +Inf bucket, whose width is unknown.
  return bounds.back();
}

struct registry::series {
  /// Sorted, escaped `a="x",b="y"`, without braces; also the key in family::index.
  std::string label_text;
  /// monostate only between creation and the caller's emplace.
  std::variant<std::monostate, observability::counter, observability::gauge,
               observability::histogram, std::function<double()>>
      value;
};

struct registry::family {
  std::string name;
  std::string help;
  kind type;
  std::vector<double> bucket_bounds;
  /// The `le` values, formatted once.
  std::vector<std::string> le_text;
  /// In registration order, which is render order. unique_ptr so removing one series leaves the
  /// others (and the references callers hold) where they are.
  std::vector<std::unique_ptr<series>> members;
  std::unordered_map<std::string, series*> index;

  static std::string_view type_name(kind k) noexcept {
    switch (k) {
      case kind::counter:
        return "counter";
      case kind::gauge:
        return "gauge";
      case kind::histogram:
        break;
    }
    return "histogram";
  }
};

registry::registry() = default;
registry::~registry() = default;
registry::registry(registry&&) noexcept = default;
registry& registry::operator=(registry&&) noexcept = default;

registry::family* registry::find_family(std::string_view name) const noexcept {
  for (const auto& f : families_) {
    if (f->name == name) {
      return f.get();
    }
  }
  return nullptr;
}

registry::series& registry::find_or_add(kind type, std::string_view name, std::string_view help,
                                        const label_set& labels,
                                        const std::vector<double>* bucket_bounds) {
  validate_metric_name(name);
  const label_set sorted_labels = sorted(labels);
  validate_label_names(name, sorted_labels, type == kind::histogram);
  std::string text = label_text(sorted_labels);
  if (bucket_bounds != nullptr) {
    validate_bucket_bounds(*bucket_bounds);
  }

  family* f = find_family(name);
  if (f != nullptr) {
    if (f->type != type) {
      throw std::logic_error("metric \"" + std::string(name) + "\" is already registered as a " +
                             std::string(family::type_name(f->type)) + ", not a " +
                             std::string(family::type_name(type)));
    }
    if (f->help != help) {
      throw std::logic_error("metric \"" + std::string(name) +
                             "\" is already registered with other help text");
    }
    if (bucket_bounds != nullptr && f->bucket_bounds != *bucket_bounds) {
      throw std::logic_error("histogram \"" + std::string(name) +
                             "\" is already registered with other bucket bounds");
    }
  } else {
    auto added = std::make_unique<family>();
    added->name = name;
    added->help = help;
    added->type = type;
    if (bucket_bounds != nullptr) {
      added->bucket_bounds = *bucket_bounds;
      for (const double bound : *bucket_bounds) {
        added->le_text.push_back(format_number(bound));
      }
    }
    families_.push_back(std::move(added));
    f = families_.back().get();
  }

  if (const auto it = f->index.find(text); it != f->index.end()) {
    return *it->second;
  }
  auto added = std::make_unique<series>();
  added->label_text = std::move(text);
  series& s = *added;
  f->members.push_back(std::move(added));
  f->index.emplace(s.label_text, &s);
  return s;
}

observability::counter& registry::counter(std::string_view name, std::string_view help,
                                          const label_set& labels) {
  series& s = find_or_add(kind::counter, name, help, labels, nullptr);
  if (std::holds_alternative<std::monostate>(s.value)) {
    s.value.emplace<observability::counter>();
  }
  return std::get<observability::counter>(s.value);
}

observability::gauge& registry::gauge(std::string_view name, std::string_view help,
                                      const label_set& labels) {
  series& s = find_or_add(kind::gauge, name, help, labels, nullptr);
  if (std::holds_alternative<std::monostate>(s.value)) {
    s.value.emplace<observability::gauge>();
  }
  if (!std::holds_alternative<observability::gauge>(s.value)) {
    throw std::logic_error("gauge \"" + std::string(name) + "{" + s.label_text +
                           "}\" is already registered as a callback gauge");
  }
  return std::get<observability::gauge>(s.value);
}

observability::histogram& registry::histogram(std::string_view name, std::string_view help,
                                              std::vector<double> bucket_bounds,
                                              const label_set& labels) {
  series& s = find_or_add(kind::histogram, name, help, labels, &bucket_bounds);
  if (std::holds_alternative<std::monostate>(s.value)) {
    s.value.emplace<observability::histogram>(std::move(bucket_bounds));
  }
  return std::get<observability::histogram>(s.value);
}

void registry::gauge_callback(std::string_view name, std::string_view help,
                              std::function<double()> read, const label_set& labels) {
  if (!read) {
    throw std::invalid_argument("gauge callback \"" + std::string(name) + "\" is empty");
  }
  series& s = find_or_add(kind::gauge, name, help, labels, nullptr);
  if (std::holds_alternative<observability::gauge>(s.value)) {
    throw std::logic_error("gauge \"" + std::string(name) + "{" + s.label_text +
                           "}\" is already registered as a plain gauge");
  }
  s.value = std::move(read);
}

bool registry::remove(std::string_view name, const label_set& labels) {
  family* f = find_family(name);
  if (f == nullptr) {
    return false;
  }
  // No validation: a label set that would fail it was never registered, so it finds nothing.
  const auto it = f->index.find(label_text(sorted(labels)));
  if (it == f->index.end()) {
    return false;
  }
  const series* target = it->second;
  f->index.erase(it);
  std::erase_if(f->members, [target](const auto& s) { return s.get() == target; });
  return true;
}

void registry::clear_family(std::string_view name) {
  if (family* f = find_family(name); f != nullptr) {
    f->index.clear();
    f->members.clear();
  }
}

void registry::render_to(std::string& out) const {
  for (const auto& f : families_) {
    if (f->members.empty()) {
      continue;
    }
    out += "# HELP ";
    out += f->name;
    out += ' ';
    append_escaped(out, f->help, false);
    out += "\n# TYPE ";
    out += f->name;
    out += ' ';
    out += family::type_name(f->type);
    out += '\n';

    for (const auto& s : f->members) {
      const auto append_series_name = [&](std::string_view suffix) {
        out += f->name;
        out += suffix;
        if (!s->label_text.empty()) {
          out += '{';
          out += s->label_text;
          out += '}';
        }
        out += ' ';
      };

      if (const auto* c = std::get_if<observability::counter>(&s->value)) {
        append_series_name("");
        append_number(out, c->value());
        out += '\n';
      } else if (const auto* g = std::get_if<observability::gauge>(&s->value)) {
        append_series_name("");
        append_number(out, g->value());
        out += '\n';
      } else if (const auto* read = std::get_if<std::function<double()>>(&s->value)) {
        append_series_name("");
        append_number(out, (*read)());
        out += '\n';
      } else if (const auto* h = std::get_if<observability::histogram>(&s->value)) {
        const auto& counts = h->bucket_counts();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          out += f->name;
          out += "_bucket{";
          if (!s->label_text.empty()) {
            out += s->label_text;
            out += ',';
          }
          out += "le=\"";
          out += i < f->le_text.size() ? std::string_view(f->le_text[i]) : "+Inf";
          out += "\"} ";
          append_integer(out, cumulative);
          out += '\n';
        }
        append_series_name("_sum");
        append_number(out, h->sum());
        out += '\n';
        append_series_name("_count");
        append_integer(out, h->count());
        out += '\n';
      }
    }
  }
}

std::string registry::render() const {
  std::string out;
  render_to(out);
  return out;
}

}  // namespace order_tracker::observability
