"""Fill the French catalogue from JSON files of translations ({msgid: msgstr}).

    python scripts/merge_translations.py FILE.json [...]

Plural entries use the key "singular|||plural" and a list of two French forms;
an entry with a context (pgettext) uses "context\u0004msgid", as gettext does.
Entries already translated are overwritten (the JSON is the newer word); fuzzy
flags are cleared on the entries it fills. Run `make messages` before (new msgids)
and after (compile).
"""

import json
import sys
from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/fr/LC_MESSAGES/django.po"


def main(paths: list[str]) -> None:
    translations = {}
    for path in paths:
        translations.update(json.loads(Path(path).read_text(encoding="utf-8")))
    po = polib.pofile(str(CATALOGUE))
    filled = 0
    for entry in po:
        key = f"{entry.msgid}|||{entry.msgid_plural}" if entry.msgid_plural else entry.msgid
        if entry.msgctxt:
            key = f"{entry.msgctxt}\x04{key}"
        if key not in translations:
            continue
        value = translations[key]
        if entry.msgid_plural:
            entry.msgstr_plural = {0: value[0], 1: value[1]}
        else:
            entry.msgstr = value
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
        filled += 1
    po.save()
    missing = [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags]
    print(f"{filled} entries filled; {len(missing)} still untranslated or fuzzy")
    for msgid in missing:
        print("  -", msgid)


if __name__ == "__main__":
    main(sys.argv[1:])
