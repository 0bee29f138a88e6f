#!/usr/bin/env python3
"""Maven version-ordering oracle for palisade-vuln.

Asks Maven itself: `org.apache.maven.artifact.versioning.ComparableVersion` (the main class
of the maven-artifact jar) prints how each argument compares with the next one. Writes
`maven_pairs.tsv`: version, `<`/`=`/`>`, version, one pair per line.

    python3 gen_maven_vectors.py [COUNT] [SEED] > maven_pairs.tsv

The versions are the cases of Maven's own ComparableVersionTest (the qualifier and number
orderings, the equalities, the comparisons and the MNG-5568/6572/6964/7559 regressions),
each sorted list in order, then COUNT random versions built from numbers (small, with
leading zeros, beyond 32 and 64 bits), qualifiers and their aliases, unknown words and the
separators `.` and `-`, compared in random pairs.

The jar is found in $MAVEN_ARTIFACT_JAR, /usr/share/maven/lib, or ~/.m2.
"""
import glob
import os
import random
import subprocess
import sys

QUALIFIER_ORDER = [
    "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11",
    "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc",
    "1-def", "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123",
]
NUMBER_ORDER = [
    "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
    "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11",
    "11.a", "11b", "11c", "11m",
]
EQUAL = [
    ("1", "1"), ("1", "1.0"), ("1", "1.0.0"), ("1.0", "1.0.0"), ("1", "1-0"), ("1", "1.0-0"),
    ("1.0", "1.0-0"), ("1a", "1-a"), ("1a", "1.0-a"), ("1a", "1.0.0-a"), ("1.0a", "1-a"),
    ("1.0.0a", "1-a"), ("1x", "1-x"), ("1x", "1.0-x"), ("1x", "1.0.0-x"), ("1.0x", "1-x"),
    ("1.0.0x", "1-x"), ("1ga", "1"), ("1release", "1"), ("1final", "1"), ("1cr", "1rc"),
    ("1a1", "1-alpha-1"), ("1b2", "1-beta-2"), ("1m3", "1-milestone-3"), ("1X", "1x"),
    ("1A", "1a"), ("1B", "1b"), ("1M", "1m"), ("1Ga", "1"), ("1GA", "1"), ("1RELEASE", "1"),
    ("1RELeaSE", "1"), ("1Final", "1"), ("1FinaL", "1"), ("1FINAL", "1"), ("1Cr", "1Rc"),
    ("1cR", "1rC"), ("1m3", "1Milestone3"), ("1m3", "1MileStone3"), ("1m3", "1MILESTONE3"),
]
COMPARE = [
    ("1", "2"), ("1.5", "2"), ("1", "2.5"), ("1.0", "1.1"), ("1.1", "1.2"), ("1.0.0", "1.1"),
    ("1.0.1", "1.1"), ("1.1", "1.2.0"), ("1.0-alpha-1", "1.0"), ("1.0-alpha-1", "1.0-alpha-2"),
    ("1.0-alpha-1", "1.0-beta-1"), ("1.0-beta-1", "1.0-SNAPSHOT"), ("1.0-SNAPSHOT", "1.0"),
    ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"), ("1.0", "1.0-1"), ("1.0-1", "1.0-2"),
    ("1.0.0", "1.0-1"), ("2.0-1", "2.0.1"), ("2.0.1-klm", "2.0.1-lmn"), ("2.0.1", "2.0.1-xyz"),
    ("2.0.1", "2.0.1-123"), ("2.0.1-xyz", "2.0.1-123"),
    # MNG-5568, MNG-6572, MNG-6964, MNG-7559
    ("6.1.0rc3", "6.1.0"), ("6.1.0rc3", "6.1H.5-beta"), ("6.1.0", "6.1H.5-beta"),
    ("20190126.230843", "1234567890.12345"), ("1234567890.12345", "123456789012345.1H.5-beta"),
    ("123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"),
    ("1-0.alpha", "1"), ("1-0.beta", "1"), ("1-0.alpha", "1-0.beta"),
    ("1.0.RC1", "1.0"), ("1.0-RC1", "1.0"), ("1.0.CR1", "1.0-CR2"), ("1.0-sp", "1.0.sp"),
    ("0000000000000000001", "1"), ("00000000000000000010", "9"), ("2147483647", "2147483648"),
    ("9223372036854775807", "9223372036854775808"), ("1-1.foo-bar1baz-.1", "1-1.foo-bar-1-baz-0.1"),
]

WORDS = ["alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot", "SNAPSHOT",
         "ga", "GA", "final", "Final", "release", "sp", "SP", "foo", "xyz", "jre", "android",
         "Beta", "RC", "M", "dev", "pre", "+build", "incubating", "Final-redhat", "RELEASE",
         "v", "x", "_", "jre_8", "Ga", "cR", "mIlEsToNe"]


def number(rng):
    r = rng.random()
    if r < 0.6:
        return str(rng.randint(0, 12))
    if r < 0.75:
        return "0" * rng.randint(1, 3) + str(rng.randint(0, 9))
    if r < 0.9:
        return str(rng.randint(0, 10**rng.randint(9, 12)))
    return str(rng.randint(0, 10**rng.randint(18, 25)))


def random_version(rng):
    first = number(rng) if rng.random() < 0.85 else rng.choice(WORDS)
    parts = [rng.choice(["", "", "", ".", "-"]) + first]
    for _ in range(rng.randint(0, 5)):
        sep = rng.choice([".", ".", "-", "-", "", "..", "-."])
        token = number(rng) if rng.random() < 0.55 else rng.choice(WORDS)
        if rng.random() < 0.05:
            token = ""
        parts.append(sep + token)
    return "".join(parts)


def jar():
    candidates = [os.environ.get("MAVEN_ARTIFACT_JAR", "")]
    candidates += sorted(glob.glob("/usr/share/maven/lib/maven-artifact*.jar"))
    candidates += sorted(glob.glob(os.path.expanduser(
        "~/.m2/repository/org/apache/maven/maven-artifact/*/maven-artifact-*.jar")))
    for c in candidates:
        if c and os.path.isfile(c):
            return c
    sys.exit("maven-artifact jar not found (set MAVEN_ARTIFACT_JAR)")


def compare_chain(versions):
    """Runs ComparableVersion on the versions as arguments; returns the operator between
    each consecutive pair."""
    out = subprocess.run(
        ["java", "-cp", jar(), "org.apache.maven.artifact.versioning.ComparableVersion",
         *versions],
        check=True, capture_output=True, text=True).stdout
    # Argument k is printed as `k. V -> …`; its comparison with the next one follows on a
    # line indented by three spaces.
    cmp_lines = [line for line in out.splitlines() if line.startswith("   ")]
    if len(cmp_lines) != len(versions) - 1:
        sys.exit(f"expected {len(versions) - 1} comparisons, got {len(cmp_lines)}")
    ops = []
    for k, line in enumerate(cmp_lines):
        a, b = versions[k], versions[k + 1]
        s = line[3:]
        op = s[len(a) + 1:].split(" ", 1)[0]
        if not s.startswith(a + " ") or op not in ("<", "==", ">") or s != f"{a} {op} {b}":
            sys.exit(f"cannot read the comparison of {a!r} and {b!r}: {line!r}")
        ops.append({"==": "="}.get(op, op))
    return ops


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rng = random.Random(seed)
    pairs = []
    for chain in (QUALIFIER_ORDER, NUMBER_ORDER):
        pairs += list(zip(chain, chain[1:]))
        # Every pair of the sorted lists, not only neighbours, in both directions.
        pairs += [(a, b) for i, a in enumerate(chain) for b in chain[i + 2:]]
    pairs += EQUAL + COMPARE
    pairs += [(b, a) for a, b in COMPARE]
    versions = [random_version(rng) for _ in range(count)]
    pairs += list(zip(versions, versions[1:]))
    pairs += [(v, v.upper()) for v in versions[: count // 10]]
    pairs = [(a, b) for a, b in pairs if " " not in a + b]
    # A chain a1 b1 a2 b2 … compares every neighbour; keep the asked pairs. A few thousand
    # pairs per java process keep the command line short.
    for i in range(0, len(pairs), 4000):
        chunk = pairs[i:i + 4000]
        ops = compare_chain([v for pair in chunk for v in pair])
        for k, (a, b) in enumerate(chunk):
            print(f"{a}\t{ops[2 * k]}\t{b}")


if __name__ == "__main__":
    main()
