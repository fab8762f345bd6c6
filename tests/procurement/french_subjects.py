"""What is wrong with a French request subject (tests/procurement/test_demo_subjects.py
checks every subject the demo's builder can write, test_demo.py the seeded ones)."""

import itertools
import re

STOP_WORDS = {"de", "des", "du", "la", "le", "les", "l", "d", "et", "pour", "à", "au", "aux", "en"}
# A preposition followed by an article it should have contracted with, or two articles.
CLASHES = re.compile(
    r"\b(?:de|à) (?:les|le|des|du)\b|\bde de\b|\b(?:l'|la |le |les )(?:l'|la |le |les )",
    re.IGNORECASE,
)


def faults(subject: str) -> list[str]:
    """What is wrong with a subject: a word said twice in a row, a sequence of words
    said twice, or an article that clashes with its preposition."""
    found = []
    words = re.findall(r"\w+", subject.lower())
    found += [f"« {a} » twice" for a, b in itertools.pairwise(words) if a == b]
    seen = set()
    for size in (2, 3, 4):
        for start in range(len(words) - size + 1):
            sequence = tuple(words[start : start + size])
            if set(sequence) <= STOP_WORDS:
                continue
            if sequence in seen:
                found.append(f"« {' '.join(sequence)} » repeated")
            seen.add(sequence)
    found += [f"« {m.group()} »" for m in CLASHES.finditer(subject.replace("’", "'"))]
    return found
