#!/usr/bin/env python3
"""An independent check of the White Cross event-log test vectors.

Written from docs/event-log.md alone, with nothing but the Python standard
library: for each vector it rebuilds the hashed message byte by byte,
recomputes the data digest and the event hash, and checks that a vector
whose stream has its previous revision among the vectors chains to it.

    verify_vectors.py vectors.json [--must-fail tampered_vectors.json]

Exit status 0 when every vector of the first file checks out and, with
--must-fail, every vector of the second is refused (its predecessors are
looked up among the first file's vectors).
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


def check(v, heads):
    """Returns what is wrong with vector v; heads maps (stream, revision)
    to the hash recomputed for that event."""
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
    computed = hashlib.sha256(message).hexdigest()
    if computed != v["hash"]:
        problems.append("hash differs")
    if v["revision"] == 0 and v["prev_hash"] != "00" * 32:
        problems.append("a stream's first event must chain to 32 zero bytes")
    previous = heads.get((v["stream"], v["revision"] - 1))
    if v["revision"] > 0 and previous is not None and v["prev_hash"] != previous:
        problems.append("prev_hash is not the hash of the stream's previous event")
    return problems, computed


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(args):
    path = args[0] if args else "vectors.json"
    tampered = args[2] if len(args) > 2 and args[1] == "--must-fail" else None
    heads, failed = {}, 0
    vectors = load(path)
    for v in vectors:
        problems, computed = check(v, heads)
        heads.setdefault((v["stream"], v["revision"]), computed)
        if problems:
            failed += 1
            print("FAIL %s: %s" % (v["name"], "; ".join(problems)))
        else:
            print("ok   %s" % v["name"])
    print("%d passed, %d failed" % (len(vectors) - failed, failed))
    if tampered is None:
        return 1 if failed else 0

    accepted = 0
    for v in load(tampered):
        problems, _ = check(v, heads)
        if problems:
            print("ok   refused %s: %s" % (v["name"], "; ".join(problems)))
        else:
            accepted += 1
            print("FAIL accepted %s (want: %s)" % (v["name"], v["must_fail"]))
    print("%d tampered vectors accepted" % accepted)
    return 1 if failed or accepted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
