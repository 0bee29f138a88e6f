#!/usr/bin/env python3
"""Reads the header blobs of an rpmdb.sqlite and writes them (1) as an NDB Packages.db in the
layout of rpm's lib/backend/ndb/rpmpkg.c and (2) as db_load -T input for a Berkeley DB hash
Packages file (key: the header number as a native-endian u32, as rpm's BDB backend wrote it).

NDB layout (little endian): a 32-byte header (magic "RpmP", version 0, generation, number of
slot pages, next package index), 16-byte slots ("Slot", package index, block offset, block
count) filling the slot pages, then blobs at 16-byte blocks: "BlbS", package index,
generation, length, the header blob, then a tail (adler32, length, "BlbE").

usage: make_ndb.py RPMDB_SQLITE OUT_PACKAGES_DB OUT_BDB_TXT
"""
import sqlite3
import struct
import sys
import zlib

PAGE = 4096
src, ndb_out, bdb_out = sys.argv[1:4]
rows = sqlite3.connect(f"file:{src}?immutable=1", uri=True).execute(
    "SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()

slot_pages = 1
body = bytearray()
slots = []
offset = slot_pages * PAGE
for hnum, blob in rows:
    blob = bytes(blob)
    rec = struct.pack("<4sIII", b"BlbS", hnum, 1, len(blob)) + blob
    rec += struct.pack("<II4s", zlib.adler32(rec), len(blob), b"BlbE")
    rec += b"\0" * (-len(rec) % 16)
    slots.append(struct.pack("<4sIII", b"Slot", hnum, (offset + len(body)) // 16, len(rec) // 16))
    body += rec
head = struct.pack("<4sIIII", b"RpmP", 0, 1, slot_pages, len(rows) + 1).ljust(32, b"\0")
n_slots = slot_pages * PAGE // 16 - 2
slots += [struct.pack("<4sIII", b"Slot", 0, 0, 0)] * (n_slots - len(slots))
with open(ndb_out, "wb") as f:
    f.write(head + b"".join(slots) + bytes(body))

def esc(b):
    return "".join("\\%02x" % x for x in b)

with open(bdb_out, "w") as f:
    for hnum, blob in rows:
        f.write(esc(struct.pack("=I", hnum)) + "\n" + esc(bytes(blob)) + "\n")
