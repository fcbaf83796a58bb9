-- The player's listening beacon at a steady rate: every report a play of one story, POSTed to /listened.
-- BENCH_BEACON_STORIES: public story ids with a recording, comma-separated; BENCH_BEACON_RATE: reports a second for
-- the whole run, shared by BENCH_BEACON_THREADS threads (wrk's -t); BENCH_MAX_REQUESTS: stop after this many answers
-- (per thread).
-- Each thread keeps a timetable of its own: report n leaves at start + n x interval, whichever connection is free, so
-- the rate holds whatever the answers' latency (a pause after each answer would let the rate follow the latency).
-- A thread that fell behind sends at once until it is on time again, catching up at most 100 ms of its timetable.
-- Each report comes from one of 5,000 listeners' addresses in X-Forwarded-For, as nginx would pass them on (the
-- gunicorn under test trusts 127.0.0.1 as its proxy), so the per-listener limit of the beacon is not what is measured.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")

local stories = {}
for id in string.gmatch(os.getenv("BENCH_BEACON_STORIES") or "", "%d+") do
  table.insert(stories, tonumber(id))
end
local rate = tonumber(os.getenv("BENCH_BEACON_RATE") or "0")
local threads = tonumber(os.getenv("BENCH_BEACON_THREADS") or "1")
local interval = rate > 0 and 1000 * threads / rate or 0
local sent, due = 0, nil

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
  if interval == 0 then
    return 0
  end
  local now = common.clock_ms()
  if due == nil or due < now - 100 then
    due = now
  end
  due = due + interval
  return math.max(math.floor(due - now), 0)
end

response = common.response
done = common.done
