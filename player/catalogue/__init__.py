# SPDX-License-Identifier: MIT
"""The listener's own music in the shared catalogue (``embeddings``), and history joined to it.

* :mod:`.tags` reads titles, artists, genres and external ids (MusicBrainz recording id,
  ISRC) with mutagen;
* :mod:`.folder` embeds a folder of audio files in the background, resumable, skipping
  unchanged files and naming the ones it cannot read (``infinite-player catalogue add``);
* :mod:`.match` joins listening history to catalogue entries: by external id, then by
  normalised artist and title.
"""
