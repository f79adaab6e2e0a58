-- Listening-history imports (player/imports).
--
-- 1. ListenBrainz and Last.fm listens keep their own platform name: they are scrobbles
--    that may come from any player, so filing them under 'spotify' would be a guess, and
--    keeping them apart lets a later import from the real service sit beside them.
alter table public.user_history drop constraint if exists user_history_platform_check;
alter table public.user_history add constraint user_history_platform_check
  check (platform in ('spotify', 'apple', 'youtube', 'infinite', 'listenbrainz', 'lastfm'));

-- 2. One row per listen, so importing the same export (or syncing the same Spotify
--    history) twice adds nothing: inserts use ON CONFLICT DO NOTHING on this index.
--    Exact duplicates that may already exist are folded first, or the index could not
--    be built; they carry no information beyond the first copy.
delete from public.user_history newer
  using public.user_history older
  where newer.ctid > older.ctid
    and newer.user_id = older.user_id
    and newer.platform = older.platform
    and newer.played_at = older.played_at
    and newer.track_name = older.track_name
    and newer.artist = older.artist;

create unique index if not exists idx_user_history_unique_play
  on public.user_history (user_id, platform, played_at, track_name, artist);
