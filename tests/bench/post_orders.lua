-- wrk script for the Order service's HTTP path: POST /orders over keep-alive connections.
-- Counts 201s and other statuses per thread; done() prints one machine-readable line.
-- wrk's latency distribution covers every response: the BENCH line says how many were not 201.
wrk.method = "POST"
wrk.path = "/orders"
wrk.body = '{"user":"John Doe","item":"Shoes","quantity":2}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  created = 0
  other = 0
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format(
    "BENCH created=%d other=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    c, o, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
