#!/usr/bin/env python3
"""Drives the OpenSSF `model_signing` library (pip install model-signing pyopenssl) for interop tests.

usage: model_signing_interop.py sign   MODEL SIGNATURE PRIVATE_KEY_PEM [SHARD_SIZE]
       model_signing_interop.py verify MODEL SIGNATURE PUBLIC_KEY_PEM
Exit 0 on success, 1 on a failed verification (message on stderr).
"""
import base64
import json
import sys

import model_signing


def shard_size_of(signature):
    """model_signing 1.1.1 cannot verify its own sharded signatures: shard_size comes back from the
    protobuf Struct as a float and `range()` rejects it. Read it here and pass it as an int."""
    with open(signature, encoding="utf-8") as f:
        bundle = json.load(f)
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    serialization = statement["predicate"]["serialization"]
    if serialization.get("method") == "shards":
        return int(serialization["shard_size"])
    return None


def main(argv):
    action, model, signature, key = argv[1:5]
    if action == "sign":
        hashing = model_signing.hashing.Config()
        if len(argv) > 5:
            hashing = hashing.use_shard_serialization(shard_size=int(argv[5]))
        model_signing.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(
            hashing
        ).sign(model, signature)
        print("Signing succeeded")
        return 0
    config = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=key)
    shard_size = shard_size_of(signature)
    if shard_size is not None:
        config = config.set_hashing_config(
            model_signing.hashing.Config().use_shard_serialization(shard_size=shard_size)
        )
    try:
        config.verify(model, signature)
    except ValueError as e:
        print(f"Verification failed: {e}", file=sys.stderr)
        return 1
    print("Verification succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
