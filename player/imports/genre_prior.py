"""What an imported history says about the genres a listener likes, in the engine's terms.

The listener model (issue 13) starts a new listener from this prior instead of from zero:
the artists they played most, mapped to the procedural engine's genre ids through two
sources the app may have:

- the ``embeddings`` catalogue, whose rows carry an ``artist`` and free-text ``genre``
  tags (public to read, so this works offline and without any account);
- a connected Spotify account, whose Web API knows every artist's genres. Artist ids come
  from the track URIs the history holds (batched ``tracks``, 50 per call), else from an
  exact-name artist search; genres from the batched ``artists`` endpoint (50 ids per call).
  Answers are cached per artist name in the data folder (an artist Spotify does not know
  is cached too), so each artist is asked about once, ever.

Free-text genres ("deep house", "lo-fi beats", "trap latino") map to engine ids by
keywords; genres no keyword covers are ignored, and so are artists with no mapped genre.
Plays that are not music never count: podcast episodes are not imported (see the
importers), history rows that still point at a Spotify episode or show are left out, and
a podcast's "artist" has no genre in either source.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from base.errors import UserFacingError

if TYPE_CHECKING:
    from db.database import Database

log = logging.getLogger(__name__)

#: Largest id list the Spotify Web API accepts for ``tracks`` and ``artists``.
SPOTIFY_BATCH = 50
CACHE_FILE = "spotify_artist_genres.json"

#: Keywords per engine genre id, most specific first: "lo-fi hip hop" is lo-fi, "trap
#: latino" is trap, "indie rock" is rock. Matched as whole words on normalised text.
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "drum-and-bass",
        ("drum and bass", "drum & bass", "drum n bass", "dnb", "d&b", "jungle", "neurofunk"),
    ),
    ("lo-fi", ("lo fi", "lofi", "chillhop")),
    ("synthwave", ("synthwave", "retrowave", "outrun", "darksynth", "vaporwave", "chillwave")),
    ("trap", ("trap", "phonk")),
    ("techno", ("techno", "minimal", "hardstyle")),
    ("house", ("house", "edm", "dance", "disco", "garage", "electro")),
    ("hip-hop", ("hip hop", "hiphop", "rap", "drill", "boom bap", "grime")),
    ("r&b", ("r&b", "rnb", "r and b", "soul", "funk", "motown")),
    ("jazz", ("jazz", "bebop", "swing", "blues", "bossa nova")),
    (
        "ambient",
        ("ambient", "new age", "drone", "classical", "neoclassical", "downtempo", "chillout"),
    ),
    (
        "rock",
        ("rock", "metal", "punk", "indie", "grunge", "shoegaze", "emo", "alternative"),
    ),
    ("pop", ("pop",)),
)
_PATTERNS = [
    (genre, re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![a-z0-9])"))
    for genre, words in _KEYWORDS
]


def engine_genre(text: str) -> str | None:
    """The engine genre id a free-text genre belongs to, or None when none fits."""
    from player.generation.genres import resolve_genre

    try:
        return resolve_genre(text).id
    except UserFacingError:
        pass
    normal = " ".join(text.casefold().replace("-", " ").replace("_", " ").split())
    for genre, pattern in _PATTERNS:
        if pattern.search(normal):
            return genre
    return None


def history_genre_prior(
    database: Database,
    user_id: uuid.UUID,
    *,
    spotify: Any = None,
    limit_artists: int = 200,
) -> dict[str, float]:
    """Weights per engine genre id (summing to 1) from the user's most played artists.

    ``spotify`` is a connected ``spotipy.Spotify`` (or a
    :class:`~player.imports.spotify_connect.SpotifyConnector`); without it only the
    catalogue is asked. Returns ``{}`` when no artist maps to a genre.
    """
    plays, track_ids = _top_artists(database, user_id, limit_artists)
    if not plays:
        return {}
    tags: dict[str, Counter[str]] = defaultdict(Counter)
    for artist, genres in _catalogue_genres(database, user_id, plays).items():
        tags[artist].update(genres)
    if spotify is not None:
        client = getattr(spotify, "client", spotify)
        for artist, names in SpotifyArtistGenres(client).genres(plays, track_ids).items():
            tags[artist].update(names)
    weights: dict[str, float] = defaultdict(float)
    for artist, count in plays.items():
        mapped: Counter[str] = Counter()
        for text, n in tags.get(artist, Counter()).items():
            genre = engine_genre(text)
            if genre is not None:
                mapped[genre] += n
        total = sum(mapped.values())
        for genre, n in mapped.items():
            weights[genre] += count * n / total
    whole = sum(weights.values())
    if not whole:
        return {}
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
    return {genre: weight / whole for genre, weight in ranked}


def _top_artists(
    database: Database, user_id: uuid.UUID, limit: int
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Plays per artist (most played first) and some Spotify track ids of each."""
    from db.models import UserHistory

    track_id = func.coalesce(UserHistory.track_id, "")
    music = track_id.not_like("spotify:episode:%") & track_id.not_like("spotify:show:%")
    plays = func.sum(func.coalesce(UserHistory.play_count, 1))
    spotify_track = func.min(UserHistory.track_id).filter(
        UserHistory.track_id.startswith("spotify:track:")
    )
    query = (
        select(UserHistory.artist, plays, spotify_track)
        .where(UserHistory.user_id == user_id, music)
        .group_by(UserHistory.artist)
        .order_by(plays.desc(), UserHistory.artist)
        .limit(max(limit, 0))
    )
    with database.user_session(user_id) as session:
        result = session.execute(query).all()
    counts = {artist: int(n) for artist, n, _ in result}
    tracks = {artist: [track] for artist, _, track in result if track}
    return counts, tracks


def _catalogue_genres(
    database: Database, user_id: uuid.UUID, plays: dict[str, int]
) -> dict[str, Counter[str]]:
    """Genre tags of the artists' tracks in the embeddings catalogue, matched by name."""
    from db.models import Embedding

    by_key = {_key(a): a for a in plays}
    found: dict[str, Counter[str]] = defaultdict(Counter)
    query = select(Embedding.artist, Embedding.genre).where(
        func.lower(Embedding.artist).in_([a.lower() for a in plays])
    )
    with database.user_session(user_id) as session:
        for artist, genres in session.execute(query):
            name = by_key.get(_key(artist))
            if name is not None:
                found[name].update(g for g in genres or [] if g)
    return found


class SpotifyArtistGenres:
    """Artist genres from the Spotify Web API, asked once per artist and cached on disk."""

    def __init__(self, client: Any, cache: Path | None = None) -> None:
        from base.paths import data_dir

        self.client = client
        self.path = cache if cache is not None else data_dir() / "cache" / CACHE_FILE
        self.cache: dict[str, list[str]] = self._load()

    def genres(
        self, artists: Iterable[str], track_ids: dict[str, list[str]]
    ) -> dict[str, list[str]]:
        names = list(artists)
        missing = [a for a in names if _key(a) not in self.cache]
        if missing:
            import requests
            from spotipy import SpotifyException
            from spotipy.oauth2 import SpotifyOauthError

            try:
                self._ask(missing, track_ids)
            except (SpotifyException, SpotifyOauthError, requests.RequestException) as exc:
                # The prior is a head start, not a requirement: what was learned is kept,
                # the rest is asked next time, and the catalogue still counts.
                log.warning("Spotify artist genres unavailable: %s", exc)
            self._save()
        return {a: self.cache.get(_key(a), []) for a in names}

    def _ask(self, missing: list[str], track_ids: dict[str, list[str]]) -> None:
        wanted = {_key(a): a for a in missing}
        ids: dict[str, str] = {}  # artist key -> Spotify artist id
        uris = [t for a in missing for t in track_ids.get(a, [])]
        for batch in _batches(uris, SPOTIFY_BATCH):
            answer = self.client.tracks(batch) or {}
            for track in answer.get("tracks") or []:
                for artist in (track or {}).get("artists") or []:
                    key = _key(str(artist.get("name") or ""))
                    if key in wanted and artist.get("id"):
                        ids.setdefault(key, str(artist["id"]))
        for key, name in wanted.items():
            if key in ids:
                continue
            answer = self.client.search(q=f'artist:"{name}"', type="artist", limit=5) or {}
            for item in (answer.get("artists") or {}).get("items") or []:
                if _key(str(item.get("name") or "")) == key and item.get("id"):
                    ids[key] = str(item["id"])
                    break
            else:
                self.cache[key] = []  # not an artist Spotify knows (a podcast, a typo)
        by_id = {artist_id: key for key, artist_id in ids.items()}
        for batch in _batches(list(by_id), SPOTIFY_BATCH):
            answer = self.client.artists(batch) or {}
            for artist in answer.get("artists") or []:
                if artist and artist.get("id") in by_id:
                    genres = [str(g) for g in artist.get("genres") or [] if g]
                    self.cache[by_id[artist["id"]]] = genres

    def _load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("ignoring unreadable cache %s", self.path)
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): [str(g) for g in v] for k, v in data.items() if isinstance(v, list)}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.cache, ensure_ascii=False), encoding="utf-8")
        partial.replace(self.path)


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
