"""How Google Takeout words a watched video's title, per account language.

Takeout writes ``title`` as a sentence in the account's language around the video's
title: "Watched Bohemian Rhapsody", "Hai guardato Bohemian Rhapsody", "Sie haben
Bohemian Rhapsody angesehen". One row per wording: language, the text before the title
and the text after it. Several rows may share a language where Takeout's wording changed
or differs by region.

Where the rows come from: the issue's notes (Italian, French, Spanish, German) and what
we remember of Takeout exports and of open-source Takeout parsers; no real export in
each language was at hand. Verified: English (every parser), French (an open-source
parser strips "Vous avez regardé " from a French watch history), Italian and German (the
issue's examples, not found in public code). The other rows are unverified and marked so.
A wrong or missing row costs little: the importer then keeps the title as Takeout wrote
it and still recognises the play by its channel and URL (see
:mod:`player.imports.youtube_export`), and says so in the import's result.
"""

from __future__ import annotations

from typing import NamedTuple


class Wording(NamedTuple):
    language: str
    before: str
    after: str
    verified: bool


#: The ten largest YouTube languages and a few more; longest ``before`` first per language,
#: so "Você assistiu a " wins over a shorter form that is its suffix.
WORDINGS: tuple[Wording, ...] = (
    Wording("en", "Watched ", "", True),
    Wording("es", "Has visto ", "", False),
    Wording("pt", "Você assistiu a ", "", False),
    Wording("pt", "Assistiu a ", "", False),
    Wording("hi", "", " देखा गया", False),
    Wording("id", "Menonton ", "", False),
    Wording("ja", "", " を視聴しました", False),
    Wording("ru", "Вы посмотрели ", "", False),
    Wording("de", "Sie haben ", " angesehen", True),
    Wording("fr", "Vous avez regardé ", "", True),
    Wording("it", "Hai guardato ", "", True),
    Wording("ko", "", " 을(를) 시청했습니다.", False),
    Wording("ko", "", " 시청함", False),
    Wording("tr", "", " izlendi", False),
    Wording("vi", "Đã xem ", "", False),
    Wording("ar", "تمت مشاهدة ", "", False),
    Wording("pl", "Obejrzano: ", "", False),
    Wording("nl", "", " bekeken", False),
    Wording("zh", "已观看 ", "", False),
    Wording("zh", "已觀看 ", "", False),
)


def strip_wording(title: str) -> tuple[str, str | None]:
    """The video's own title and the language whose wording was removed (None: unknown)."""
    for wording in WORDINGS:
        if (
            title.startswith(wording.before)
            and title.endswith(wording.after)
            and len(title) > len(wording.before) + len(wording.after)
        ):
            inner = title[len(wording.before) : len(title) - len(wording.after)].strip()
            if inner:
                return inner, wording.language
    return title, None
