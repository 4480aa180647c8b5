#!/usr/bin/python3
"""bench_page.py: what the built-in chart page costs, in headless Chromium.

    bench/run-page.sh [BUILD_DIR] [ROUNDS]    (starts this)

Against finnstreamd on its built-in sim feed (sim_rate trades/s over
its default 17 symbols), the page showing 4 symbols over 5 minutes:

1. load: the page loaded ROUNDS x 5 times in one tab without the HTTP
   cache, from navigation to the load event and to the first charts
   drawn (the page's "finnstream-ready" mark); and apart, the first load
   of each round, in a new browser whose renderer starts with it;
2. update: one page open 30 s; the daemon's time in HTTP callbacks
   (finnstream_loop_busy_seconds_total{stage="http"}) per page update
   (one update = one request per panel, 4);
3. ten pages: the daemon's CPU (utime + stime of /proc/PID/stat) over
   30 s with ten pages open, minus 30 s with none, as a share of one
   core.

Each figure: the median of ROUNDS rounds, and the spread (min-max).
Prints RESULT lines; bench/RESULTS.md records them.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

top, build, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
chromium = os.environ.get('CHROMIUM', 'chromium')
driver = os.path.join(top, 'tests/integration/lib/page_check.py')
chart_dir = os.path.join(top, '.npm-deps/node_modules/uplot/dist')
hz = os.sysconf('SC_CLK_TCK')
WATCH = 30


def start_daemon(work):
    log = open(os.path.join(work, 'daemon.log'), 'w+')
    p = subprocess.Popen([os.path.join(build, 'finnstreamd'), '--data_dir',
                          os.path.join(work, 'data'), '--feed', 'sim',
                          '--sim_rate', '1000', '--kafka_listen',
                          '127.0.0.1:0', '--http_listen', '127.0.0.1:0',
                          '--http_web_dir', os.path.join(top, 'web'),
                          '--http_chart_dir', chart_dir, '--log_level',
                          'info'], stderr=log, stdout=subprocess.DEVNULL)
    end = time.time() + 10
    while time.time() < end:
        log.seek(0)
        m = re.search(r'http: listening on 127\.0\.0\.1:(\d+)', log.read())
        if m:
            return p, '127.0.0.1:' + m.group(1)
        time.sleep(0.05)
    sys.exit('finnstreamd did not start')


def metric(addr, name, labels=''):
    with urllib.request.urlopen('http://%s/metrics' % addr) as r:
        text = r.read().decode()
    m = re.search(r'^finnstream_%s%s (\S+)$' % (re.escape(name),
                                               re.escape(labels)),
                  text, re.M)
    return float(m.group(1))


def cpu_s(pid):
    f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz


def driver_cmd(url, seconds, *extra):
    return ['/usr/bin/python3', driver, '--chromium', chromium, '--url', url,
            '--seconds', str(seconds), '--interval', '1', *extra]


def lines_of(out):
    for line in out.splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            pass


def spread(xs):
    return '%s (%s-%s)' % (fmt(statistics.median(xs)), fmt(min(xs)),
                           fmt(max(xs)))


def fmt(x):
    return '%.3g' % x if x < 10 else '%.0f' % x


def main():
    work = tempfile.mkdtemp(prefix='bench-page-')
    d, addr = start_daemon(work)
    url = 'http://%s/?range=300000' % addr
    loads, readies, per_update, ten = [], [], [], []
    firsts, first_ready = [], []
    try:
        time.sleep(8)  # a few seconds of trades to draw
        for r in range(rounds):
            # 1. cold loads
            out = subprocess.run(driver_cmd(url, 1, '--reloads', '6'),
                                 capture_output=True, text=True,
                                 check=True).stdout
            for j in lines_of(out):
                if 'reload' in j and j['timing']:
                    if j['reload'] == 0:
                        firsts.append(j['timing']['load_ms'])
                        first_ready.append(j['timing']['ready_ms'])
                    else:
                        loads.append(j['timing']['load_ms'])
                        readies.append(j['timing']['ready_ms'])
            # 2. one page: daemon time per update
            proc = subprocess.Popen(driver_cmd(url, WATCH + 8),
                                    stdout=subprocess.PIPE, text=True)
            first = None
            for line in proc.stdout:
                j = json.loads(line)
                if 'done' in j:
                    continue
                u = int(j.get('updates') or 0)
                if first is None and u >= 3:
                    first = (u, metric(addr, 'loop_busy_seconds_total',
                                       '{stage="http"}'))
                elif first is not None and u >= first[0] + WATCH - 5:
                    busy = metric(addr, 'loop_busy_seconds_total',
                                  '{stage="http"}')
                    per_update.append((busy - first[1]) * 1e3 /
                                      (u - first[0]))
                    break
            for line in proc.stdout:  # to its end
                pass
            proc.wait()
            # 3. ten pages against none
            c0 = cpu_s(d.pid)
            time.sleep(WATCH)
            idle = cpu_s(d.pid) - c0
            proc = subprocess.Popen(driver_cmd(url, WATCH + 15, '--pages',
                                               '10'),
                                    stdout=subprocess.PIPE, text=True)
            c0 = None
            for line in proc.stdout:
                j = json.loads(line)
                if 'done' in j:
                    continue
                if c0 is None and j.get('t', 0) >= 10:
                    c0, t0 = cpu_s(d.pid), time.time()
                elif c0 is not None and time.time() - t0 >= WATCH:
                    busy = cpu_s(d.pid) - c0
                    ten.append(100 * (busy / (time.time() - t0) -
                                      idle / WATCH))
                    break
            for line in proc.stdout:  # to its end
                pass
            proc.wait()
            print('# round %d: load %s ms, update %.3f ms, ten pages %.2f%%'
                  % (r + 1, spread(loads[-5:]), per_update[-1], ten[-1]),
                  flush=True)
    finally:
        d.terminate()
        d.wait()
    print('RESULT page load (no HTTP cache, loopback, same tab): %s ms to '
          'the load event, %s ms to the first charts (median of %d loads, '
          'min-max)' % (spread(loads), spread(readies), len(loads)))
    print('RESULT first load in a new browser (its renderer starting): %s ms '
          'to the load event, %s ms to the first charts (median of %d)'
          % (spread(firsts), spread(first_ready), len(firsts)))
    print('RESULT daemon time per 1 s page update (4 requests): %s ms '
          '(median of %d rounds)' % (spread(per_update), len(per_update)))
    print('RESULT ten pages at 1 s refresh: %s%% of a core beyond the idle '
          'daemon (median of %d rounds)' % (spread(ten), len(ten)))


main()
