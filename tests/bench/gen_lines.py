# Pre-generates N order lines "KEY<TAB>VALUE" for kcat -P -l -K '\t': the same OrderPlaced v1
# JSON the Order service writes (compact, uuid4 order_id as key, schema_version 1).
import sys
import uuid

n = int(sys.argv[1])
users = ["John Doe", "Jane Doe", "Ada Lovelace", "Alan Turing"]
items = ["Shoes", "Phone", "Laptop", "Book", "Coffee"]
out = sys.stdout
for i in range(n):
    oid = str(uuid.uuid4())
    out.write(f'{oid}\t{{"order_id":"{oid}","user":"{users[i % 4]}","item":"{items[i % 5]}",'
              f'"quantity":{i % 5 + 1},"schema_version":1}}\n')
