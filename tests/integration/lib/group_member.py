# group_member.py: one consumer-group member for the integration tests,
# run as its own process so a test can stop it (SIGTERM: close, which
# leaves the group) or kill it (SIGKILL: the broker must notice by the
# session timeout).
#
#   group_member.py CLIENT BOOTSTRAP GROUP TOPIC [SESSION_MS]
#
# CLIENT is "ck" (confluent-kafka, i.e. librdkafka) or "kp" (kafka-python).
# Prints, flushed, one line per event:
#   assigned <ms since the epoch> <p,p,...>   after each rebalance
#   consumed <n>                               every 100 records
import os
import signal
import sys
import time

client, bootstrap, group, topic = sys.argv[1:5]
session_ms = int(sys.argv[5]) if len(sys.argv) > 5 else 6000
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def report(parts):
    say('assigned %d %s' % (int(time.time() * 1000),
                            ','.join(str(p) for p in sorted(parts)) or '-'))


n = 0
if client == 'ck':
    from confluent_kafka import Consumer
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group,
                  'session.timeout.ms': session_ms,
                  'heartbeat.interval.ms': 500,
                  'auto.offset.reset': 'earliest'})
    current = set()

    def on_assign(consumer, parts):
        current.clear()
        current.update(p.partition for p in parts)
        report(current)

    def on_revoke(consumer, parts):
        current.clear()

    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop:
        m = c.poll(0.2)
        if m is not None and not m.error():
            n += 1
            if n % 100 == 0:
                say('consumed %d' % n)
    c.close()
else:
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                      session_timeout_ms=session_ms,
                      heartbeat_interval_ms=500,
                      auto_offset_reset='earliest',
                      partition_assignment_strategy=[RangePartitionAssignor])
    last = None
    c.subscribe([topic])
    while not stop:
        for recs in c.poll(timeout_ms=200).values():
            n += len(recs)
        now = set(tp.partition for tp in c.assignment())
        if now != last:
            last = now
            report(now)
    c.close()
say('closed %d' % n)
os._exit(0)
