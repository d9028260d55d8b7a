"""The English catalog keeps up with the Chinese source: every msgid of
locale/en/LC_MESSAGES/django.po has a checked (not fuzzy), non-empty translation that keeps the
msgid's placeholders, and the committed django.mo was compiled from this .po.

After `manage.py makemessages -l en ...` adds or changes strings, these tests fail until the new
msgids are translated, their fuzzy flags removed and `manage.py compilemessages` run again."""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

LC_MESSAGES = Path(settings.BASE_DIR, "locale", "en", "LC_MESSAGES")
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{\{\s*[\w.]+\s*\}\}")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    def __str__(self) -> str:
        context = f" (msgctxt {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"django.po:{self.line} {self.msgid!r}{context}"


def unquote(text: str) -> str:
    return ast.literal_eval(text)


def parse_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete ``#~`` entries left out), header included."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                entry, target = None, None
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := KEYWORD.match(line):
            keyword, index, value = match.group(1), match.group(2), unquote(match.group(3))
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index or 0))
                entry.msgstr[target[1]] = value
            else:
                target = (keyword, 0)
                setattr(entry, keyword, value)
        elif line.startswith('"') and target is not None:
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += unquote(line)
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + unquote(line))
        else:
            raise AssertionError(f"django.po:{number}: cannot parse {raw!r}")
    return [e for e in entries if e.msgid is not None]


ENTRIES = parse_po(PO) if PO.exists() else []
MESSAGES = [e for e in ENTRIES if e.msgid != ""]


def test_the_catalog_exists_and_has_messages():
    assert PO.exists(), (
        "run: manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=tests --ignore=bench"
    )
    assert len(MESSAGES) > 100
    header = next(e for e in ENTRIES if e.msgid == "")
    assert "Language: en" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_every_msgid_is_translated():
    untranslated = [
        str(e) for e in MESSAGES if not e.msgstr or not all(text.strip() for text in e.msgstr.values())
    ]
    assert untranslated == []


def test_no_entry_is_fuzzy():
    assert [str(e) for e in ENTRIES if "fuzzy" in e.flags] == []


def test_plural_entries_have_both_forms():
    broken = [str(e) for e in MESSAGES if e.msgid_plural is not None and sorted(e.msgstr) != [0, 1]]
    assert broken == []


def test_translations_keep_the_placeholders():
    """A lost or renamed %(name)s breaks the page at render time; msgfmt --check says the same,
    but this runs without gettext installed."""

    def placeholders(text: str) -> set[str]:
        return {m.group(0) for m in PLACEHOLDER.finditer(text.replace("%%", ""))}

    broken = []
    for e in MESSAGES:
        for index, text in e.msgstr.items():
            source = e.msgid_plural if index and e.msgid_plural is not None else e.msgid
            if placeholders(text) != placeholders(source):
                broken.append(f"{e} [{index}]: {sorted(placeholders(source))} → {sorted(placeholders(text))}")
    assert broken == []


def test_translations_keep_the_html_tags():
    tag = re.compile(r"</?[a-z][^>]*>")
    broken = [
        str(e)
        for e in MESSAGES
        for text in e.msgstr.values()
        if sorted(tag.findall(text)) != sorted(tag.findall(e.msgid))
    ]
    assert broken == []


@pytest.mark.skipif(not PO.exists(), reason="no catalog")
def test_the_compiled_catalog_matches_the_po():
    """django.mo is committed so running the product needs no gettext: it must be compiled from
    the current django.po (manage.py compilemessages --ignore=.venv)."""
    assert MO.exists(), "run: manage.py compilemessages --ignore=.venv"
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    stale = []
    for e in MESSAGES:
        if e.msgid_plural is None:
            if catalog.get(e.key) != e.msgstr[0]:
                stale.append(str(e))
        elif [catalog.get((e.key, i)) for i in sorted(e.msgstr)] != [e.msgstr[i] for i in sorted(e.msgstr)]:
            stale.append(str(e))
    assert stale == []
