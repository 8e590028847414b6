# The seed's producer (../shared/seed/producer.py) driven for N orders, for the benchmark.
# Same client and config as the seed: confluent_kafka.Producer({"bootstrap.servers": ...}) with
# librdkafka's defaults, the seed's order dicts (order_id uuid4, user, item, quantity; plus
# "schema_version": 1 so the Tracker accepts them as OrderPlaced v1), json.dumps(...).encode(),
# produce(topic, value, callback=delivery_report) and flush() at the end. Differences forced by N:
# the delivery callback counts instead of printing two lines per order, and produce() serves
# delivery reports with poll(0) / retries after poll() when librdkafka's queue is full (BufferError),
# the pattern confluent-kafka documents for more than a queue's worth of messages.
# Usage: seed_producer_n.py TOPIC N   (broker from KAFKA_BOOTSTRAP_SERVERS, as in the seed)
import json
import os
import sys
import time
import uuid

from confluent_kafka import Producer

topic = sys.argv[1]
n = int(sys.argv[2])

producer_config = {
    "bootstrap.servers": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
}
producer = Producer(producer_config)

delivered = 0
failed = 0


def delivery_report(err, msg):
    global delivered, failed
    if err:
        failed += 1
    else:
        delivered += 1


users = ["John Doe", "Jane Doe", "Ada Lovelace", "Alan Turing"]
items = ["Shoes", "Phone", "Laptop", "Book", "Coffee"]

start = time.monotonic()
for i in range(n):
    order = {
        "order_id": str(uuid.uuid4()),
        "user": users[i % 4],
        "item": items[i % 5],
        "quantity": i % 5 + 1,
        "schema_version": 1,
    }
    value = json.dumps(order).encode("utf-8")
    while True:
        try:
            producer.produce(topic=topic, value=value, callback=delivery_report)
            break
        except BufferError:
            producer.poll(0.1)
    producer.poll(0)
producer.flush()
elapsed = time.monotonic() - start
print(json.dumps({"delivered": delivered, "failed": failed, "elapsed_s": elapsed,
                  "msgs_per_s": delivered / elapsed if elapsed > 0 else 0}))
sys.exit(0 if delivered == n else 1)
