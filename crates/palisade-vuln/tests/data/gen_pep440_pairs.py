#!/usr/bin/env python3
"""Random PEP 440 versions judged by pypa/packaging (`pip install packaging`), the live
oracle of palisade-vuln's PEP 440 ordering.

    python3 gen_pep440_pairs.py [COUNT] [SEED]

Prints `a<TAB>b<TAB>-1|0|1` for pairs of valid versions and `a<TAB>INVALID` for strings
packaging rejects. Versions mix epochs, release segments (leading zeros, many segments),
pre-releases in every spelling (a, alpha, b, beta, c, rc, pre, preview; with `.`, `-`, `_`
or no separator; with and without a number), post-releases (`.post1`, `-1`, `rev`, `r`),
dev releases, local versions, a `v` prefix, upper case and surrounding spaces; a few
are broken on purpose.
"""
import random
import sys

from packaging.version import InvalidVersion, Version

PRE = ["a", "alpha", "b", "beta", "c", "rc", "pre", "preview", "A", "RC"]
SEP = ["", ".", "-", "_"]


def release(rng):
    n = rng.choice([1, 1, 2, 2, 3, 3, 3, 4, 5])
    return ".".join(
        rng.choice(["0", "1", "2", "10", "01", "007", str(rng.randint(0, 30))]) for _ in range(n)
    )


def version(rng):
    v = ""
    if rng.random() < 0.1:
        v += f"{rng.randint(0, 3)}!"
    v += release(rng)
    if rng.random() < 0.4:
        num = "" if rng.random() < 0.2 else str(rng.randint(0, 12))
        v += rng.choice(SEP) + rng.choice(PRE) + rng.choice(SEP[:2] if num else [""]) + num
    if rng.random() < 0.25:
        form = rng.choice(["post", "rev", "r", "-"])
        if form == "-":
            v += f"-{rng.randint(0, 5)}"
        else:
            num = "" if rng.random() < 0.2 else str(rng.randint(0, 5))
            v += rng.choice(SEP) + form + num
    if rng.random() < 0.25:
        num = "" if rng.random() < 0.2 else str(rng.randint(0, 5))
        v += rng.choice(SEP) + "dev" + num
    if rng.random() < 0.15:
        v += "+" + rng.choice(["ubuntu", "cpu", "cu121", "1", "abc.5", "a-b_c", "0.1"])
    if rng.random() < 0.05:
        v = "v" + v
    if rng.random() < 0.05:
        v = v.upper()
    if rng.random() < 0.03:
        v = " " + v + "  " if rng.random() < 0.5 else v + " "
    if rng.random() < 0.04:
        v = rng.choice([v + "..", v + "+", "+" + v, v + "-", v.replace(".", "..", 1), v + "x"])
    return v


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 440
    rng = random.Random(seed)
    valid = []
    for _ in range(count):
        v = version(rng)
        try:
            parsed = Version(v)
        except InvalidVersion:
            print(f"{v}\tINVALID")
            continue
        valid.append((v, parsed))
    for (a, pa), (b, pb) in zip(valid, valid[1:]):
        print(f"{a}\t{b}\t{(pa > pb) - (pa < pb)}")
    # Neighbours in sorted order are the close calls.
    valid.sort(key=lambda x: x[1])
    for (a, pa), (b, pb) in zip(valid, valid[1:]):
        print(f"{a}\t{b}\t{(pa > pb) - (pa < pb)}")


if __name__ == "__main__":
    main()
