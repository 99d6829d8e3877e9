#!/usr/bin/env python3
"""An independent check of the White Cross event-log test vectors.

Written from docs/event-log.md alone, with nothing but the Python standard
library: for each vector it rebuilds the hashed message byte by byte, and
recomputes the data digest and the event hash. Exit status 0 when every
vector matches.
"""
import base64
import hashlib
import json
import struct
import sys
import uuid
from datetime import datetime

DATA_TAG = b"whitecross/event-data/v1\x00"
EVENT_TAG = b"whitecross/event/v1\x00"


def length_prefixed(b):
    return struct.pack(">I", len(b)) + b


def check(v):
    problems = []
    if v["data_base64"] is not None:
        salt = bytes.fromhex(v["data_salt"])
        data = base64.b64decode(v["data_base64"])
        if len(salt) != 16:
            problems.append("salt is not 16 bytes")
        digest = hashlib.sha256(DATA_TAG + salt + data).digest()
        if digest.hex() != v["data_digest"]:
            problems.append("data digest differs")
    digest = bytes.fromhex(v["data_digest"])

    recorded = datetime.fromisoformat(v["recorded_at"].replace("Z", "+00:00"))
    micros = v["recorded_at_us"]
    if int(recorded.timestamp()) != micros // 1_000_000:
        problems.append("recorded_at and recorded_at_us disagree")

    message = (
        EVENT_TAG
        + bytes.fromhex(v["prev_hash"])
        + uuid.UUID(v["id"]).bytes
        + length_prefixed(v["stream"].encode("utf-8"))
        + struct.pack(">Q", v["revision"])
        + length_prefixed(v["type"].encode("utf-8"))
        + struct.pack(">I", v["schema_version"])
        + struct.pack(">q", micros)
        + length_prefixed(v["metadata"].encode("utf-8"))
        + digest
    )
    if message.hex() != v["message_hex"]:
        problems.append("message differs")
    if hashlib.sha256(message).hexdigest() != v["hash"]:
        problems.append("hash differs")
    return problems


def main(path):
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    failed = 0
    for v in vectors:
        problems = check(v)
        if problems:
            failed += 1
            print("FAIL %s: %s" % (v["name"], "; ".join(problems)))
        else:
            print("ok   %s" % v["name"])
    print("%d passed, %d failed" % (len(vectors) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "vectors.json"))
