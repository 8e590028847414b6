# The seed's consumer (../shared/seed/consumer.py) driven until it has read N orders, for the
# benchmark. Same client and config as the seed (bootstrap.servers, group.id, auto.offset.reset
# earliest; the group id is given per run so every run reads the backlog from the beginning), the
# same loop: poll(1.0), skip None, report errors, value.decode("utf-8"), json.loads, use the
# fields. It does not print a line per order (the seed does) and stops at N.
# Usage: seed_consumer_n.py TOPIC GROUP N   (broker from KAFKA_BOOTSTRAP_SERVERS)
# Prints JSON: the rate from the first message to the Nth, and the whole run's wall time.
import json
import os
import sys
import time

from confluent_kafka import Consumer

topic, group, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
consumer_config = {
    "bootstrap.servers": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
    "group.id": group,
    "auto.offset.reset": "earliest",
}
start = time.monotonic()
consumer = Consumer(consumer_config)
consumer.subscribe([topic])

count = 0
first = None
quantity = 0
deadline = time.monotonic() + 600
try:
    while count < n and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            print("Error:", msg.error(), file=sys.stderr)
            continue
        if first is None:
            first = time.monotonic()
        value = msg.value().decode("utf-8")
        order = json.loads(value)
        line = f"Received order: {order['quantity']} x {order['item']} from {order['user']}"
        quantity += order["quantity"]
        count += 1
finally:
    last = time.monotonic()
    consumer.close()
window = last - first if first is not None else 0
print(json.dumps({"consumed": count, "window_s": window, "wall_s": time.monotonic() - start,
                  "msgs_per_s": count / window if window > 0 else 0}))
sys.exit(0 if count == n else 1)
