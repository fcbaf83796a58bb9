-- Stop after BENCH_MAX_REQUESTS responses (run wrk with one thread), and print the figures as one JSON line.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
-- As nginx tells the production settings (SECURE_PROXY_SSL_HEADER): the visitor came over HTTPS, so no redirect.
wrk.headers["X-Forwarded-Proto"] = "https"

response = common.response
done = common.done
