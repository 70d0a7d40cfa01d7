"""The French translation is complete, faithful to its placeholders, compiled, and used.

The catalogue is ``beacon/locale/fr/LC_MESSAGES/django.po``. Update it with
``beacon makemessages -l fr`` (see docs/architecture.md, "Translating"), translate every
new entry, then compile the committed ``django.mo`` with ``msgfmt --check``. These tests
fail when an entry is untranslated or fuzzy, when a translation drops or changes a
placeholder or HTML tag, or when the committed ``.mo`` is older than the ``.po``.
"""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import translation

from beacon.core.testing import BeaconTestCase

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

# printf-style conversions as Python's % operator reads them, "%%" included, so a
# translation cannot drop a literal percent sign that the formatting needs.
PERCENT_PLACEHOLDER = re.compile(
    r"%%|%(?:\([^)]*\))?[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]"
)
# str.format fields ({name}, {0}, {}, {name!r:>8}) and HTML tags (<a href="...">, </a>).
BRACE_PLACEHOLDER = re.compile(r"\{[A-Za-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}")
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


@dataclass
class PoEntry:
    """One message of a PO file, with the line its msgid starts on."""

    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    def label(self) -> str:
        """How a failure names the entry: file line, context and msgid."""
        context = f" [{self.msgctxt}]" if self.msgctxt is not None else ""
        return f"django.po:{self.line}{context} {self.msgid!r}"


def _unquote(literal: str, path: Path, number: int) -> str:
    """The value of one PO string literal ("..." with C escapes)."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"{path}:{number}: expected a quoted string, got {literal!r}")
    # PO escapes (\n, \t, \", \\) are a subset of Python's; the text is already UTF-8.
    value = ast.literal_eval(literal)
    assert isinstance(value, str)
    return value


def read_po(path: Path) -> list[PoEntry]:
    """Parse a PO file into its entries (the header included, obsolete ones left out).

    Raises ValueError naming the file and line for anything it cannot read.
    """
    entries: list[PoEntry] = []
    current: PoEntry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            # A blank line ends an entry; obsolete entries are kept by makemessages for
            # reference only and are never compiled.
            current, target = None, None
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"{path}:{number}: string continuation outside an entry")
            name, index = target
            value = _unquote(line, path, number)
            if name == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, name, getattr(current, name) + value)
            continue
        match = re.fullmatch(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")", line)
        if match is None:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
        keyword, index_text, literal = match.groups()
        value = _unquote(literal, path, number)
        if keyword in ("msgctxt", "msgid") and (current is None or current.msgstr):
            current = PoEntry(line=number, flags=pending_flags)
            pending_flags = set()
            entries.append(current)
        if current is None:
            raise ValueError(f"{path}:{number}: {keyword} before msgid")
        if keyword == "msgstr":
            index = int(index_text) if index_text is not None else 0
            current.msgstr[index] = value
            target = ("msgstr", index)
        else:
            if keyword == "msgid":
                current.line = number
            setattr(current, keyword, value)
            target = (keyword, 0)
    return entries


def placeholders(text: str, python_format: bool) -> Counter[str]:
    """The placeholders and HTML tags of ``text`` that a translation must keep."""
    found: Counter[str] = Counter(BRACE_PLACEHOLDER.findall(text))
    found.update(HTML_TAG.findall(text))
    if python_format:
        found.update(PERCENT_PLACEHOLDER.findall(text))
    return found


def messages() -> list[PoEntry]:
    """The entries of the French catalogue, without its header."""
    entries = read_po(PO_PATH)
    assert entries and entries[0].msgid == "", "django.po must start with its header"
    return entries[1:]


def test_header_declares_french_plurals() -> None:
    header = read_po(PO_PATH)[0].msgstr[0]
    assert "Language: fr\n" in header
    assert "Content-Type: text/plain; charset=UTF-8\n" in header
    assert "Plural-Forms: nplurals=2; plural=(n > 1);\n" in header


def test_every_message_is_translated_and_not_fuzzy() -> None:
    entries = messages()
    assert len(entries) > 1000, "the catalogue looks truncated"
    problems = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            problems.append(f"{entry.label()}: marked fuzzy (check it, then drop the flag)")
        expected_forms = [0, 1] if entry.msgid_plural is not None else [0]
        if sorted(entry.msgstr) != expected_forms:
            problems.append(f"{entry.label()}: has forms {sorted(entry.msgstr)}")
        elif not all(entry.msgstr[i].strip() for i in expected_forms):
            problems.append(f"{entry.label()}: no French translation")
    assert not problems, "\n".join(problems)


def test_translations_keep_placeholders_tags_and_line_breaks() -> None:
    problems = []
    for entry in messages():
        python_format = "python-format" in entry.flags
        sources = {0: entry.msgid, 1: entry.msgid_plural or entry.msgid}
        for index, translated in entry.msgstr.items():
            source = sources.get(index, entry.msgid)
            want = placeholders(source, python_format)
            got = placeholders(translated, python_format)
            if want != got:
                problems.append(
                    f"{entry.label()} msgstr[{index}]: placeholders {sorted(want.elements())} "
                    f"became {sorted(got.elements())}"
                )
            # msgfmt --check insists on these; an email body that loses its final line
            # break runs into the next paragraph.
            starts = source.startswith("\n") != translated.startswith("\n")
            ends = source.endswith("\n") != translated.endswith("\n")
            if starts or ends:
                problems.append(f"{entry.label()} msgstr[{index}]: leading/trailing line break")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_matches_the_po_file() -> None:
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in messages():
        if entry.msgid_plural is not None:
            pairs = [
                (entry.msgstr[0], _plural(compiled, entry, 1)),
                (entry.msgstr[1], _plural(compiled, entry, 2)),
            ]
        elif entry.msgctxt is not None:
            pairs = [(entry.msgstr[0], compiled.pgettext(entry.msgctxt, entry.msgid))]
        else:
            pairs = [(entry.msgstr[0], compiled.gettext(entry.msgid))]
        if any(want != got for want, got in pairs):
            stale.append(entry.label())
    assert not stale, "django.mo is out of date; run msgfmt (see docs/architecture.md):\n" + (
        "\n".join(stale[:20])
    )


def _plural(compiled: gettext.GNUTranslations, entry: PoEntry, n: int) -> str:
    assert entry.msgid_plural is not None
    if entry.msgctxt is not None:
        return compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
    return compiled.ngettext(entry.msgid, entry.msgid_plural, n)


def test_parser_reads_contexts_plurals_and_continuations(tmp_path: Path) -> None:
    sample = tmp_path / "sample.po"
    sample.write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        "#, fuzzy, python-format\n"
        'msgctxt "verb"\nmsgid "Open %(n)s"\nmsgstr ""\n"Ouvrir "\n"%(n)s"\n\n'
        'msgid "%(n)s day"\nmsgid_plural "%(n)s days"\n'
        'msgstr[0] "%(n)s jour"\nmsgstr[1] "%(n)s jours"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "Parti"\n',
        encoding="utf-8",
    )
    header, verb, days = read_po(sample)
    assert header.msgstr == {0: "Language: fr\n"}
    assert (verb.msgctxt, verb.msgid, verb.msgstr) == ("verb", "Open %(n)s", {0: "Ouvrir %(n)s"})
    assert verb.flags == {"fuzzy", "python-format"}
    assert days.msgid_plural == "%(n)s days" and days.msgstr[1] == "%(n)s jours"
    assert placeholders('<a href="%(url)s">%(n)d%%</a> {x}', True) == Counter(
        ['<a href="%(url)s">', "</a>", "%(n)d", "%%", "{x}", "%(url)s"]
    )


class FrenchPagesTests(BeaconTestCase):
    """Public pages of several apps come out in French for a French-speaking browser."""

    # Canadian French first, as a browser set up in Vancouver or Montréal sends it.
    ACCEPT = "fr-CA,fr;q=0.9,en;q=0.5"

    PAGES = {
        # app: (path, French text expected, the English original that must be gone)
        "reports": (
            "/c/north/report",
            "Dites à North ce que vous avez vu.",
            "Tell North what you have seen.",
        ),
        "incidents": ("/c/north/map/", "Carte de la criminalité de North", "Crime map of North"),
        "officers": ("/c/north/officers/", "Trouvez votre agent(e)", "Find your officer"),
        "watch": (
            "/c/north/watch/",
            "Aucun groupe de surveillance pour l’instant.",
            "No watch groups yet.",
        ),
        "forums": ("/c/north/concerns/", "Préoccupations à North", "Concerns in North"),
        "programs": (
            "/c/north/events/",
            "Aucun événement n’est prévu pour le moment.",
            "No events are planned at the moment.",
        ),
        "notify": ("/c/north/alerts/", "Alertes pour North", "Alerts for North"),
    }

    def setUp(self) -> None:
        super().setUp()
        # LocaleMiddleware leaves the request's language active in this thread; put the
        # previous one back so later tests that call gettext directly still get English.
        self.addCleanup(translation.activate, translation.get_language())

    def test_public_pages_are_in_french(self) -> None:
        for app, (path, french, english) in self.PAGES.items():
            with self.subTest(app=app):
                response = self.client.get(path, HTTP_ACCEPT_LANGUAGE=self.ACCEPT)
                assert response.status_code == 200, (path, response.status_code)
                assert response.headers["Content-Language"] == "fr"
                self.assertContains(response, '<html lang="fr"')
                self.assertContains(response, french)
                self.assertNotContains(response, english)
                # The shared layout is translated too.
                self.assertContains(response, "Aller au contenu")

    def test_english_stays_the_default(self) -> None:
        path, french, english = self.PAGES["officers"]
        response = self.client.get(path, HTTP_ACCEPT_LANGUAGE="en-CA,en;q=0.9")
        self.assertContains(response, english)
        self.assertNotContains(response, french)
