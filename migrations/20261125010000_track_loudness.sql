-- Playback: loudness measured once per track and stored with it.
--
-- The playback engine normalises every track toward a target loudness (-14 LUFS by
-- default). Measuring means decoding the whole file, so the result is kept here and
-- handed back to the engine (FileSource metadata) the next time the track plays.
-- Both are NULL until the track has been measured; integrated loudness is NULL too for
-- silence (BS.1770 gives minus infinity, which a real column should not hold).
alter table public.generated_tracks add column if not exists loudness_lufs real;
alter table public.generated_tracks add column if not exists true_peak_dbtp real;

comment on column public.generated_tracks.loudness_lufs is
  'Integrated loudness, ITU-R BS.1770-4 / EBU R128, in LUFS (NULL: not measured or silent).';
comment on column public.generated_tracks.true_peak_dbtp is
  'True peak (4x oversampled), in dBTP (NULL: not measured).';
