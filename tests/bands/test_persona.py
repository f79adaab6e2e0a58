"""Personas: fit the style, deterministic per seed, varied, never a duplicate name."""

from __future__ import annotations

import pytest

from base.errors import UserFacingError
from player.bands.persona import (
    _GENRES,
    BandStyle,
    GrammarPersonaBackend,
    LLMPersonaBackend,
    normalize_genre,
    unique_name,
)


def test_same_seed_same_persona_and_seed_changes_it():
    backend = GrammarPersonaBackend()
    style = BandStyle.of(["house"], "energetic")
    assert backend.generate(style, 7) == GrammarPersonaBackend().generate(style, 7)
    assert backend.generate(style, 7) != backend.generate(style, 8)


def test_names_and_bios_are_varied():
    backend = GrammarPersonaBackend()
    personas = [backend.generate(BandStyle.of(["techno"]), seed) for seed in range(60)]
    assert len({p.name for p in personas}) >= 40
    assert len({p.bio for p in personas}) == 60


@pytest.mark.parametrize("genre", sorted(_GENRES))
def test_bio_speaks_the_genre(genre):
    words = _GENRES[genre]
    for seed in range(5):
        persona = GrammarPersonaBackend().generate(BandStyle.of([genre]), seed)
        assert persona.name in persona.bio
        assert any(inst in persona.bio for inst in words.instruments), persona.bio
        assert any(scene in persona.bio for scene in words.scenes), persona.bio


def test_genres_draw_from_their_own_words():
    backend = GrammarPersonaBackend()
    metal = " ".join(backend.generate(BandStyle.of(["metal"]), s).bio for s in range(20))
    lofi = " ".join(backend.generate(BandStyle.of(["lo-fi"]), s).bio for s in range(20))
    assert "guitars" in metal and "guitars" not in lofi
    assert "vinyl crackle" in lofi or "tape" in lofi


def test_vibe_and_second_genre_show_in_the_bio():
    persona = GrammarPersonaBackend().generate(BandStyle.of(["rock", "jazz"], "dark"), 3)
    assert "dark and brooding" in persona.bio
    assert "jazz" in persona.bio


def test_unknown_genre_and_vibe_still_make_a_persona_that_names_them():
    persona = GrammarPersonaBackend().generate(BandStyle.of(["Vaporwave"], "spooky"), 1)
    assert "vaporwave" in persona.bio and "spooky" in persona.bio
    assert persona.name


def test_names_never_repeat_among_taken_ones():
    backend = GrammarPersonaBackend()
    style = BandStyle.of(["pop"])
    taken: list[str] = []
    for _ in range(30):  # same seed every time: the backend must draw around what is taken
        persona = backend.generate(style, 5, taken)
        assert persona.name.casefold() not in {t.casefold() for t in taken}
        taken.append(persona.name)


def test_unique_name_numbers_when_everything_is_taken():
    assert unique_name("Neon Hearts", ["neon hearts"]) == "Neon Hearts II"
    assert unique_name("Neon Hearts", ["Neon Hearts", "NEON HEARTS II"]) == "Neon Hearts III"
    assert unique_name("Fresh", ["Other"]) == "Fresh"
    tiny = GrammarPersonaBackend(max_draws=1)
    first = tiny.generate(BandStyle.of(["jazz"]), 0)
    again = tiny.generate(BandStyle.of(["jazz"]), 0, [first.name])
    assert again.name == f"{first.name} II"


def test_genre_aliases_and_bad_input():
    assert normalize_genre("  Hip Hop ") == "hip-hop"
    assert normalize_genre("DnB") == "drum & bass"
    assert BandStyle.of(["rap", "hip-hop", "lofi"]).genres == ("hip-hop", "lo-fi")
    with pytest.raises(UserFacingError, match="genre"):
        BandStyle.of([])
    with pytest.raises(UserFacingError, match="genre"):
        BandStyle.of(["  "])


def test_llm_backend_uses_a_good_answer():
    answer = (
        "Name: The Velvet Static\n"
        "Bio: A trio of night-shift nurses who write slow, shimmering house records between rounds."
    )
    backend = LLMPersonaBackend(complete=lambda prompt, seed: answer)
    persona = backend.generate(BandStyle.of(["house"], "dreamy"), 1)
    assert persona.name == "The Velvet Static"
    assert persona.bio.startswith("A trio of night-shift nurses")


def test_llm_backend_falls_back_on_bad_duplicate_or_broken_output():
    style = BandStyle.of(["folk"])
    grammar = GrammarPersonaBackend().generate(style, 2)
    garbage = LLMPersonaBackend(complete=lambda p, s: "asdf qwer").generate(style, 2)
    assert garbage.name == grammar.name and len(garbage.bio) > 40

    dup = "Name: Taken Band\nBio: " + "A perfectly fine bio that is long enough to be used. " * 2
    persona = LLMPersonaBackend(complete=lambda p, s: dup).generate(style, 2, ["taken band"])
    assert persona.name != "Taken Band" and "perfectly fine bio" in persona.bio

    def boom(prompt: str, seed: int) -> str:
        raise RuntimeError("model crashed")

    assert LLMPersonaBackend(complete=boom).generate(style, 2) == grammar


def test_llm_backend_prompt_names_the_style():
    prompt = LLMPersonaBackend.prompt(BandStyle.of(["techno", "ambient"], "dark"))
    assert "techno, ambient" in prompt and "dark" in prompt and "Name:" in prompt
