-- What the benchmarks' wrk scripts share: stop after BENCH_MAX_REQUESTS answers (per thread), print the figures as one
-- JSON line, and a wall clock for pacing. Loaded with `dofile` beside the script that needs it.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local now = ffi.new("bench_timespec")

local common = {}

-- Milliseconds on the monotonic clock.
function common.clock_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local limit = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local answered = 0

function common.response(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end

function common.done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "errors": %d, "non2xx": %d, "mean_ms": %.3f, "p50_ms": %.3f, ' ..
    '"p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, errors.connect + errors.read + errors.write + errors.timeout,
    errors.status, latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end

return common
