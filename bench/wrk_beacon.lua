-- The player's listening beacon at a bounded rate: every report a play of one story, POSTed to /listened.
-- BENCH_BEACON_STORIES: public story ids with a recording, comma-separated; BENCH_BEACON_DELAY_MS: each connection's
-- pause between its reports (the rate's bound); BENCH_MAX_REQUESTS: stop after this many answers (per thread).
-- Each report comes from one of 5,000 listeners' addresses in X-Forwarded-For, as nginx would pass them on (the
-- gunicorn under test trusts 127.0.0.1 as its proxy), so the per-listener limit of the beacon is not what is measured.
local stories = {}
for id in string.gmatch(os.getenv("BENCH_BEACON_STORIES") or "", "%d+") do
  table.insert(stories, tonumber(id))
end
local pause = tonumber(os.getenv("BENCH_BEACON_DELAY_MS") or "0")
local limit = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local sent, answered = 0, 0

function request()
  sent = sent + 1
  local story = stories[(sent % #stories) + 1]
  local listener = sent % 5000
  return wrk.format("POST", "/listened", {
    ["Content-Type"] = "text/plain",
    ["Sec-Fetch-Site"] = "same-origin",
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-For"] = string.format("10.9.%d.%d", math.floor(listener / 250), listener % 250 + 1),
  }, string.format('{"story": %d, "stretches": [%d], "play": true}', story, sent % 3))
end

function delay()
  return pause
end

function response(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "errors": %d, "non2xx": %d, "mean_ms": %.3f, "p95_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, errors.connect + errors.read + errors.write + errors.timeout,
    errors.status, latency.mean / 1000, latency:percentile(95) / 1000))
end
