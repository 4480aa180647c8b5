#!/usr/bin/python3
# bench_groups.py: consumer-group figures against a running finnstreamd.
#
#   bench_groups.py BOOTSTRAP [-n RECORDS] [-r RUNS] [--kcat KCAT]
#
# Preloads a 4-partition topic with RECORDS trade-sized records (the
# feed's JSON, keyed by one of 16 symbols; librdkafka producer, acks=1),
# then, RUNS times each:
#   ck-assign  confluent-kafka, every partition assigned from the start
#   ck-group   confluent-kafka, subscribe() in a new group (join, sync,
#              OffsetFetch, then the same fetches), auto-commit on
#   kcat-C     kcat -C -e over all partitions (librdkafka's simple consumer)
#   kcat-G     kcat -G in a new group, -e
# timing from the start of consumption to the last record, and the
# takeover time of a two-member group (confluent-kafka members in their
# own processes): from one member's LeaveGroup (SIGTERM) or death (SIGKILL)
# to the other's on_assign holding all four partitions.  Prints each run
# and the median with the spread (min-max).  Needs python3-confluent-kafka.
import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING

ap = argparse.ArgumentParser()
ap.add_argument('bootstrap')
ap.add_argument('-n', type=int, default=1000000)
ap.add_argument('-r', type=int, default=3)
ap.add_argument('--kcat', default='kcat')
ap.add_argument('--session-ms', type=int, default=6000)
args = ap.parse_args()
bs = args.bootstrap
topic = 'gbench-%d' % os.getpid()
SYMS = ['AAPL', 'MSFT', 'AMZN', 'NVDA', 'TSLA', 'GOOGL', 'META', 'AMD',
        'NFLX', 'INTC', 'JPM', 'V', 'BINANCE:BTCUSDT', 'BINANCE:ETHUSDT',
        'BINANCE:SOLUSDT', 'BINANCE:XRPUSDT']


def preload():
    p = Producer({'bootstrap.servers': bs, 'acks': '1', 'linger.ms': 5,
                  'batch.size': 1000000, 'batch.num.messages': 100000,
                  'queue.buffering.max.messages': 2000000,
                  'partitioner': 'murmur2_random'})
    rnd = random.Random(1)
    t = 1700000000000
    for i in range(args.n):
        s = SYMS[i % 16]
        v = '{"s":"%s","p":%.2f,"v":%d,"t":%d,"c":["1","12"]}' % (
            s, 100 + rnd.random() * 50, rnd.randint(1, 500), t + i)
        while True:
            try:
                p.produce(topic, key=s, value=v)
                break
            except BufferError:
                p.poll(0.05)
    p.flush(120)


def consume(c, want):
    n = 0
    while n < want:
        ms = c.consume(num_messages=10000, timeout=1.0)
        for m in ms:
            if not m.error():
                n += 1
    return n


def ck_assign():
    c = Consumer({'bootstrap.servers': bs, 'group.id': 'unused',
                  'enable.auto.commit': False,
                  'fetch.wait.max.ms': 100, 'check.crcs': False})
    t0 = time.time()
    c.assign([TopicPartition(topic, i, OFFSET_BEGINNING) for i in range(4)])
    consume(c, args.n)
    dt = time.time() - t0
    c.close()
    return dt


def ck_group(run):
    c = Consumer({'bootstrap.servers': bs, 'group.id': 'gb-%d-%d' % (os.getpid(), run),
                  'auto.offset.reset': 'earliest', 'fetch.wait.max.ms': 100,
                  'check.crcs': False, 'session.timeout.ms': 6000})
    t0 = time.time()
    c.subscribe([topic])
    consume(c, args.n)
    dt = time.time() - t0
    c.close()
    return dt


def kcat(extra):
    t0 = time.time()
    out = subprocess.run([args.kcat, '-b', bs, '-e', '-q', '-f', '\n',
                          '-X', 'fetch.wait.max.ms=100'] + extra,
                         stdout=subprocess.PIPE, check=True).stdout
    dt = time.time() - t0
    got = out.count(b'\n')
    if got != args.n:
        sys.exit('kcat read %d of %d records' % (got, args.n))
    return dt


MEMBER = r'''
import sys, time
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': sys.argv[2],
              'session.timeout.ms': int(sys.argv[4]),
              'heartbeat.interval.ms': 500, 'auto.offset.reset': 'latest'})
def on_assign(consumer, parts):
    print('assigned %.6f %d' % (time.time(), len(parts)), flush=True)
c.subscribe([sys.argv[3]], on_assign=on_assign)
import signal
stop = []
signal.signal(signal.SIGTERM, lambda s, f: stop.append(1))
while not stop:
    c.poll(0.1)
c.close()
'''


def takeover(how, run):
    group = 'tk-%s-%d-%d' % (how, os.getpid(), run)
    cmd = [sys.executable, '-c', MEMBER, bs, group, topic, str(args.session_ms)]
    a = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert a.stdout.readline().split()[2] == '4'
    b = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    b.stdout.readline()
    # a is told to rejoin and gets its share.
    while int(a.stdout.readline().split()[2]) == 4:
        pass
    time.sleep(1)
    t0 = time.time()
    b.send_signal(signal.SIGTERM if how == 'leave' else signal.SIGKILL)
    while True:
        ts, n = a.stdout.readline().split()[1:3]
        if int(n) == 4:
            break
    dt = float(ts) - t0
    b.wait()
    a.send_signal(signal.SIGTERM)
    a.wait()
    return dt


def report(name, runs, unit, scale):
    vals = [scale(v) for v in runs]
    med = statistics.median(vals)
    print('%-12s %s   median %.0f %s (spread %.0f-%.0f)' % (
        name, ' '.join('%.0f' % v for v in vals), med, unit, min(vals),
        max(vals)))


t = time.time()
preload()
print('preloaded %d records into %s in %.1f s' % (args.n, topic, time.time() - t))
res = {k: [] for k in ('ck-assign', 'ck-group', 'kcat-C', 'kcat-G',
                       'leave', 'kill')}
for r in range(args.r):
    res['ck-assign'].append(ck_assign())
    res['ck-group'].append(ck_group(r))
    res['kcat-C'].append(kcat(['-C', '-t', topic, '-o', 'beginning']))
    res['kcat-G'].append(kcat(['-G', 'kg-%d-%d' % (os.getpid(), r), topic,
                               '-X', 'auto.offset.reset=earliest']))
    res['leave'].append(takeover('leave', r))
    res['kill'].append(takeover('kill', r))
for k in ('ck-assign', 'ck-group', 'kcat-C', 'kcat-G'):
    report(k, res[k], 'rec/s', lambda dt: args.n / dt)
for k in ('leave', 'kill'):
    report('takeover-' + k, res[k], 'ms', lambda dt: dt * 1000)
