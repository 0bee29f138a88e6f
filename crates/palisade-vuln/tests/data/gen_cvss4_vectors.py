#!/usr/bin/env python3
"""CVSS v4.0 oracle vectors for palisade-vuln's scorer.

Scores come from Red Hat's `cvss` Python library (`pip install cvss`), the implementation
the FIRST reference calculator's published scores are checked against. Writes
`cvss4_vectors.tsv`: vector, base score, rating, one per line.

    python3 gen_cvss4_vectors.py [COUNT] [SEED] > cvss4_vectors.tsv

The vectors are the spec's examples, every base vector whose six impact metrics are one
value (the macro-vector corners), and COUNT random vectors over every base, threat and
environmental metric (supplemental metrics do not change the score; some are added anyway).
"""
import itertools
import random
import sys

from cvss import CVSS4

BASE = [
    ("AV", "NALP"), ("AC", "LH"), ("AT", "NP"), ("PR", "NLH"), ("UI", "NPA"),
    ("VC", "HLN"), ("VI", "HLN"), ("VA", "HLN"), ("SC", "HLN"), ("SI", "HLN"), ("SA", "HLN"),
]
OPTIONAL = [
    ("E", "XAPU"),
    ("CR", "XHML"), ("IR", "XHML"), ("AR", "XHML"),
    ("MAV", "XNALP"), ("MAC", "XLH"), ("MAT", "XNP"), ("MPR", "XNLH"), ("MUI", "XNPA"),
    ("MVC", "XHLN"), ("MVI", "XHLN"), ("MVA", "XHLN"), ("MSC", "XHLN"),
    ("MSI", "XSHLN"), ("MSA", "XSHLN"),
    ("S", "XNP"), ("AU", "XNY"), ("R", "XAUI"), ("V", "XDC"), ("RE", "XLMH"),
]

SPEC_EXAMPLES = [
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:H/IR:H/AR:H/MAV:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSI:S/MSA:S",
    "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N/E:U",
]


def vector(metrics):
    return "CVSS:4.0/" + "/".join(f"{k}:{v}" for k, v in metrics if v != "X")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rng = random.Random(seed)
    vectors = list(SPEC_EXAMPLES)
    for exploit in itertools.product(*[vals for _, vals in BASE[:5]]):
        for impact in "HLN":
            vectors.append(vector(list(zip([k for k, _ in BASE], list(exploit) + [impact] * 6))))
    for _ in range(count):
        metrics = [(k, rng.choice(vals)) for k, vals in BASE]
        # Half the random vectors are base-only, the other half set each optional metric
        # with probability 1/3.
        if rng.random() < 0.5:
            metrics += [(k, rng.choice(vals)) for k, vals in OPTIONAL if rng.random() < 1 / 3]
        vectors.append(vector(metrics))
    seen = set()
    for v in vectors:
        if v in seen:
            continue
        seen.add(v)
        c = CVSS4(v)
        print(f"{v}\t{c.base_score}\t{c.severity}")


if __name__ == "__main__":
    main()
