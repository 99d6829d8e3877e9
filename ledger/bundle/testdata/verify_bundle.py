#!/usr/bin/env python3
"""Check a White Cross export bundle with Python's standard library alone.

Written from docs/auditor-guide.md and docs/event-log.md, sharing no code
with the Go verifier: it checks every file's SHA-256 against manifest.json,
that manifest.sig signs manifest.json's SHA-256, every event's digest (when
its payload is present) and hash, the chain between consecutive events of a
stream, and every proof against the checkpoint's root. The two Ed25519
signatures are checked with `openssl` when it is installed (OpenSSL 3), and
skipped with a note otherwise. It does not check that the tar is in
canonical form: `whitecross verify-bundle` does.

    python3 verify_bundle.py BUNDLE.tar [--key VERIFIER_KEY]

Exit status 0 when intact, 1 with the first problem on standard error.
"""

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import uuid


class Bad(Exception):
    pass


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def length_prefixed(b):
    return struct.pack(">I", len(b)) + b


def event_hash(e):
    """The event hash of docs/event-log.md, from an events.ndjson line."""
    metadata = base64.b64decode(e["metadata"])
    digest = bytes.fromhex(e["data_digest"])
    if e["data"] is not None:
        data, salt = base64.b64decode(e["data"]), base64.b64decode(e["data_salt"])
        if sha256(b"whitecross/event-data/v1\x00", salt, data) != digest:
            raise Bad("its data does not match its data_digest")
    msg = (b"whitecross/event/v1\x00" + bytes.fromhex(e["prev_hash"]) + uuid.UUID(e["id"]).bytes
           + length_prefixed(e["stream"].encode()) + struct.pack(">Q", e["revision"])
           + length_prefixed(e["type"].encode()) + struct.pack(">I", e["schema_version"])
           + struct.pack(">q", e["recorded_at_us"]) + length_prefixed(metadata) + digest)
    return sha256(msg)


def leaf_hash(event_hash_bytes):
    return sha256(b"\x00", event_hash_bytes)


def node(left, right):
    return sha256(b"\x01", left, right)


def check_inclusion(index, size, leaf, path, root):
    """RFC 9162, section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def aligned_subtrees(lo, hi):
    """[lo, hi) as the largest aligned power-of-two subtrees, left to right."""
    out = []
    while lo < hi:
        size = 1
        while lo % (size * 2) == 0 and lo + size * 2 <= hi:
            size *= 2
        out.append((lo, lo + size))
        lo += size
    return out


def range_root(size, begin, leaves, left, right):
    """The root of a tree of size leaves, from the hashes of the subtrees
    left and right of the leaves [begin, begin+len(leaves))."""
    end = begin + len(leaves)
    known = {}
    for side, (lo, hi) in ((left, (0, begin)), (right, (end, size))):
        spans = aligned_subtrees(lo, hi)
        if len(spans) != len(side):
            raise Bad("a range proof has %d hashes for [%d, %d), want %d" % (len(side), lo, hi, len(spans)))
        known.update(zip(spans, side))
    for i, leaf in enumerate(leaves):
        known[(begin + i, begin + i + 1)] = leaf

    def mth(lo, hi):
        if (lo, hi) in known:
            return known[(lo, hi)]
        if hi - lo == 1:
            raise Bad("leaf %d is neither proved nor held" % lo)
        k = 1
        while k * 2 < hi - lo:
            k *= 2
        return node(mth(lo, lo + k), mth(lo + k, hi))

    return mth(0, size)


def openssl_verify(openssl, vkey, note):
    """Checks a signed note's one signature with the Ed25519 key vkey."""
    name, _, key64 = vkey.split("+", 2)
    key = base64.b64decode(key64)
    if key[0] != 1 or len(key) != 33:
        raise Bad("verifier-key: not an Ed25519 key")
    text, _, sigs = note.partition(b"\n\n")
    line = sigs.rstrip(b"\n").split(b"\n")
    if len(line) != 1 or not line[0].startswith(("\u2014 " + name + " ").encode()):
        raise Bad("a signed note does not carry one signature by the key")
    sig = base64.b64decode(line[0].split(b" ")[-1])[4:]
    with tempfile.TemporaryDirectory() as d:
        files = {"key.der": bytes.fromhex("302a300506032b6570032100") + key[1:],
                 "msg": text + b"\n", "sig": sig}
        for f, b in files.items():
            with open(os.path.join(d, f), "wb") as out:
                out.write(b)
        ok = subprocess.run([openssl, "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey",
                             os.path.join(d, "key.der"), "-rawin", "-in", os.path.join(d, "msg"),
                             "-sigfile", os.path.join(d, "sig")], capture_output=True)
        if ok.returncode != 0:
            raise Bad("a signature does not verify with the key")


def verify(path, trusted_key=None):
    files = {}
    with tarfile.open(path, "r:") as tar:
        for m in tar.getmembers():
            files[m.name] = tar.extractfile(m).read()
    manifest = json.loads(files["manifest.json"])
    listed = [f["name"] for f in manifest["files"]]
    present = [n for n in files if n not in ("manifest.json", "manifest.sig")]
    if sorted(listed) != sorted(present):
        raise Bad("manifest.json lists %s; the bundle holds %s" % (listed, present))
    for f in manifest["files"]:
        if hashlib.sha256(files[f["name"]]).hexdigest() != f["sha256"]:
            raise Bad("%s: its SHA-256 is not the manifest's" % f["name"])
    sig_text = files["manifest.sig"].split(b"\n\n")[0].decode().split("\n")
    if sig_text[1] != hashlib.sha256(files["manifest.json"]).hexdigest() + "  manifest.json":
        raise Bad("manifest.sig does not sign manifest.json's SHA-256")

    vkey = files["verifier-key"].decode().strip()
    if trusted_key is not None and vkey != trusted_key.strip():
        raise Bad("verifier-key is not the trusted key")
    openssl = shutil.which("openssl")
    if openssl:
        openssl_verify(openssl, vkey, files["checkpoint"])
        openssl_verify(openssl, vkey, files["manifest.sig"])
    origin, size, root = files["checkpoint"].decode().split("\n")[:3]
    size, root = int(size), base64.b64decode(root)
    if size != manifest["tree_size"] or origin != manifest["origin"]:
        raise Bad("manifest.json does not name the checkpoint")

    events = [json.loads(l) for l in files["events.ndjson"].decode().splitlines()]
    heads = {}
    for n, e in enumerate(events, 1):
        try:
            h = event_hash(e)
        except Bad as err:
            raise Bad("events.ndjson line %d: %s" % (n, err))
        if h.hex() != e["hash"]:
            raise Bad("events.ndjson line %d: its hash is not what its fields hash to" % n)
        prev = heads.get(e["stream"])
        if prev and e["revision"] == prev[0] + 1 and e["prev_hash"] != prev[1]:
            raise Bad("events.ndjson line %d: the chain is broken" % n)
        heads[e["stream"]] = (e["revision"], e["hash"])

    at = 0
    for n, line in enumerate(files["proofs.ndjson"].decode().splitlines(), 1):
        p = json.loads(line)
        if p["kind"] == "inclusion":
            e = events[at]
            leaf = leaf_hash(bytes.fromhex(e["hash"]))
            path = [base64.b64decode(x) for x in p["hashes"]]
            if p["event_id"] != e["id"] or not check_inclusion(p["leaf"], size, leaf, path, root):
                raise Bad("proofs.ndjson line %d: the inclusion proof does not hold" % n)
            at += 1
        else:
            leaves = [leaf_hash(bytes.fromhex(e["hash"])) for e in events[at:at + p["count"]]]
            left = [base64.b64decode(x) for x in p["left"]]
            right = [base64.b64decode(x) for x in p["right"]]
            if len(leaves) != p["count"] or range_root(size, p["leaf"], leaves, left, right) != root:
                raise Bad("proofs.ndjson line %d: the range proof does not hold" % n)
            at += p["count"]
    if at != len(events):
        raise Bad("%d events are not proved" % (len(events) - at))
    return len(events), bool(openssl)


def main():
    args = sys.argv[1:]
    key = None
    if "--key" in args:
        i = args.index("--key")
        with open(args[i + 1]) as f:
            key = f.read()
        del args[i:i + 2]
    try:
        n, signed = verify(args[0], key)
    except (Bad, KeyError, ValueError) as err:
        print("BAD %s" % err, file=sys.stderr)
        sys.exit(1)
    print("OK: %d events, their hashes, chains and proofs%s" % (
        n, ", and both signatures (openssl)" if signed else "; signatures not checked: no openssl"))


if __name__ == "__main__":
    main()
