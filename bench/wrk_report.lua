-- Stop after BENCH_MAX_REQUESTS responses (run wrk with one thread), and print the figures as one JSON line.
local limit = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local counter = 0
-- As nginx tells the production settings (SECURE_PROXY_SSL_HEADER): the visitor came over HTTPS, so no redirect.
wrk.headers["X-Forwarded-Proto"] = "https"

function response(status, headers, body)
  counter = counter + 1
  if limit > 0 and counter >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "errors": %d, "non2xx": %d, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, errors.connect + errors.read + errors.write + errors.timeout,
    errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
