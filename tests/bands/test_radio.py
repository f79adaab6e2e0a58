"""Band radio end to end: the real generation service, procedural engine and embedder."""

from __future__ import annotations

import numpy as np

from player.bands.service import BandService


def test_band_radio_generates_in_the_band_style_and_grows_the_band(database, make_user):
    from db.models import Embedding, GeneratedTrack

    uid = make_user(premium=True)
    svc = BandService(database)
    band = svc.create_band(uid, genres=["techno"], vibe="dark", name_seed=2)
    assert band.track_count == 0

    first, second = svc.radio(uid, band.id, count=2, seconds=4)

    info = svc.get_band(uid, band.id)
    assert info.track_count == 2 and set(info.track_ids) == {first, second}
    with database.service_session() as s:
        one, two = s.get(GeneratedTrack, first), s.get(GeneratedTrack, second)
        assert one.status == two.status == "completed"
        assert one.band_id == two.band_id == band.id
        # No track yet: a new track of the band's genre; then a sibling of its anchor.
        assert one.mode == "new" and one.generation_params["genre"] == "techno"
        assert two.mode == "similar" and two.source_id == first
        assert two.generation_params["genre"] == "techno"
        vectors = [
            np.asarray(s.scalar(Embedding.__table__.select().with_only_columns(Embedding.vector)
                                .where(Embedding.track_id == str(t))), dtype=np.float32)
            for t in (first, second)
        ]  # fmt: skip
    # The style vector now follows what the band plays.
    mean = np.mean(vectors, axis=0)
    np.testing.assert_allclose(
        svc.style_vector(uid, band.id), mean / np.linalg.norm(mean), atol=1e-5
    )

    # Reproducible: the same band state asks for the same request.
    from player.bands.service import radio_request

    a = radio_request({"genres": ["techno"], "name_seed": 2}, 5)
    assert a == radio_request({"genres": ["techno"], "name_seed": 2}, 5)
    assert a.seed != radio_request({"genres": ["techno"], "name_seed": 2}, 6).seed
