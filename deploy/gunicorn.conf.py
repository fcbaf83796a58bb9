"""gunicorn's settings for the archive. deploy/systemd/storyarchive-web.service starts it with `--config` this file and
`--bind 127.0.0.1:8000`, where deploy/nginx/storyarchive.conf sends the requests; tests/test_deployment.py starts it
the same way on a port of its own."""

import multiprocessing
import os

# Sync workers, one request at a time each. nginx buffers every upload and download, so a slow visitor holds nginx,
# not a worker. WEB_CONCURRENCY in /etc/storyarchive/env changes how many.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
# The archive is loaded once, then the workers are forked from it and share that memory (storyarchive/wsgi.py keeps
# it out of the collector's way). A new release therefore needs `systemctl restart`, not a reload.
preload_app = True
# A request still running after this long is stopped and its worker replaced. The longest is the share form's
# whole-file upload: up to 2 GiB stored, hashed and probed (the probe stops itself after a minute). nginx waits as
# long (proxy_read_timeout).
timeout = 300
graceful_timeout = 30
# Each worker is replaced after about ten thousand requests, giving back whatever memory it gathered. A new worker
# builds its templates and the compiled visibility rule again: replaced every thousand, uncached story pages answered
# 109-118 a second here under load, against 116-123 every ten thousand and 123-131 never (docs/benchmarks.md).
max_requests = 10000
max_requests_jitter = 1000
# nginx on this machine says whether the visitor came over HTTPS (X-Forwarded-Proto); nobody else is believed.
forwarded_allow_ips = "127.0.0.1"
# nginx keeps the access log; gunicorn's own messages and errors go to the journal.
accesslog = None
errorlog = "-"
# No control socket (gunicornc): systemctl starts, stops and restarts the server, and gunicorn would otherwise make one
# in the service user's home.
control_socket_disable = True
# The workers' heartbeat files in memory rather than on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
