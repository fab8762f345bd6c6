"""Add or update French translations without running makemessages.

Reads PO entries (msgctxt optional, msgid, msgstr, msgid_plural/msgstr[n]) from the
files given or from stdin, merges them into locale/fr/LC_MESSAGES/django.po and
recompiles django.mo. Holds a lock so that several people (or helpers) can add at once:

    .venv/bin/python scripts/po_add.py <<'PO'
    msgid "Save all"
    msgstr "Enregistrer tout"
    PO

`make messages` remains the way to refresh references and drop obsolete strings.
"""

import fcntl
import sys
from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "fr" / "LC_MESSAGES"


def main(paths: list[str]) -> None:
    texts = [Path(p).read_text() for p in paths] if paths else [sys.stdin.read()]
    with open("/tmp/dsi-finance-po.lock", "w") as lock:  # noqa: S108 (a lock, no data)
        fcntl.flock(lock, fcntl.LOCK_EX)
        catalogue = polib.pofile(str(CATALOGUE / "django.po"), wrapwidth=79)
        added = updated = 0
        for text in texts:
            for entry in polib.pofile(text):
                existing = catalogue.find(entry.msgid, msgctxt=entry.msgctxt or False)
                if existing is None:
                    catalogue.append(entry)
                    added += 1
                else:
                    existing.msgstr = entry.msgstr
                    existing.msgstr_plural = entry.msgstr_plural
                    if "fuzzy" in existing.flags:
                        existing.flags.remove("fuzzy")
                    updated += 1
        catalogue.save()
        catalogue.save_as_mofile(str(CATALOGUE / "django.mo"))
    print(f"{added} added, {updated} updated")


if __name__ == "__main__":
    main(sys.argv[1:])
