#!/usr/bin/python3
# bench_commits.py: synchronous OffsetCommits, as consumers that commit
# after every message send them.
#
#	bench_commits.py BOOTSTRAP [-n COMMITS] [-g GROUPS]
#
# GROUPS threads (default 4), each a confluent-kafka consumer of its own
# group, commit offsets 1..COMMITS (default 300) of two partitions of
# the topic, each commit waited for (asynchronous=False), after one
# commit that is not timed (it finds the group's coordinator).  Prints
# the commit round trip (the client's view: it includes the file write
# before the answer) as median, p99 and max, and a RESULT line.  The
# topic is the feed's, "trades" (it exists from the start).
import argparse
import sys
import threading
import time

from confluent_kafka import Consumer, TopicPartition

ap = argparse.ArgumentParser()
ap.add_argument('bootstrap')
ap.add_argument('-n', type=int, default=300)
ap.add_argument('-g', type=int, default=4)
args = ap.parse_args()

lat = []
failed = []
lock = threading.Lock()


def run(group):
    c = Consumer({'bootstrap.servers': args.bootstrap, 'group.id': group,
                  'enable.auto.commit': False})
    mine = []
    try:
        # Not timed: librdkafka defers a commit made before it knows the
        # group's coordinator, and retries it a second later.
        c.commit(offsets=[TopicPartition('trades', 0, 0)],
                 asynchronous=False)
        for off in range(1, args.n + 1):
            t = time.perf_counter()
            c.commit(offsets=[TopicPartition('trades', 0, off),
                              TopicPartition('trades', 1, off)],
                     asynchronous=False)
            mine.append((time.perf_counter() - t) * 1e3)
    except Exception as e:
        with lock:
            failed.append('%s: %s' % (group, e))
    c.close()
    with lock:
        lat.extend(mine)


t0 = time.perf_counter()
threads = [threading.Thread(target=run, args=('bench-commit-%d' % i,))
           for i in range(args.g)]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - t0
if failed:
    sys.exit('bench_commits.py: ' + '; '.join(failed))
lat.sort()
n = len(lat)
med, p99, mx = lat[n // 2], lat[min(n - 1, int(n * 0.99))], lat[-1]
print('%d commits by %d groups in %.2f s: %.0f commits/s; round trip '
      'median %.2f ms, p99 %.2f ms, max %.2f ms'
      % (n, args.g, wall, n / wall, med, p99, mx))
print('RESULT commits n=%d groups=%d per_s=%.0f median_ms=%.3f p99_ms=%.3f '
      'max_ms=%.3f' % (n, args.g, n / wall, med, p99, mx))
