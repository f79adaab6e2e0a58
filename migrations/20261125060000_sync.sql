-- Sync between a device's embedded database and the shared one (issue 8, db/sync/).
--
-- The same file runs on both sides. One table, sync_changes, holds one row per synced row
-- (compacted: the latest change wins the slot), written by a trigger in the same
-- transaction as the change itself:
--   * on a device it is the OUTBOX: rows with `pending` are local changes not yet pushed;
--   * on the shared database it is the CHANGE FEED: devices pull entries whose `txid` lies
--     between their cursor and the oldest transaction still running, so an entry written
--     by a slow transaction is never skipped. Tombstones (op = 'delete') stay in the feed.
-- While the sync writes rows it sets `infinite.sync_mode` ('push' on the shared database,
-- 'pull' on the device) so that the copy keeps the original `updated_at`, is not echoed
-- back as a local change, and pulled counters are not counted twice.
-- Everything here is harmless where no sync ever runs: a few rows per row written.

create sequence if not exists public.sync_changes_seq;

create table if not exists public.sync_changes (
  table_name text not null,
  row_key text not null,
  op text not null,
  user_id uuid not null,
  is_public boolean not null default false,
  version_at timestamptz not null default now(),
  txid xid8 not null default pg_current_xact_id(),
  seq bigint not null default nextval('public.sync_changes_seq'),
  pending boolean not null default true,
  origin text,
  primary key (table_name, row_key),
  constraint sync_changes_op_check check (op in ('upsert', 'delete'))
);

create index if not exists idx_sync_changes_txid on public.sync_changes (txid);
-- Pulls page through one table's window in (txid, row_key) order.
create index if not exists idx_sync_changes_table_txid
  on public.sync_changes (table_name, txid, row_key);
create index if not exists idx_sync_changes_pending on public.sync_changes (seq) where pending;
create index if not exists idx_sync_changes_user_id on public.sync_changes (user_id);

-- Where this device stands with one shared database, per user.
create table if not exists public.sync_state (
  user_id uuid not null references public.users (id) on delete cascade,
  remote text not null,
  device_id uuid not null default gen_random_uuid(),
  pull_cursor text not null default '1',
  last_sync_at timestamptz,
  last_attempt_at timestamptz,
  last_error text,
  last_result jsonb default '{}'::jsonb,
  primary key (user_id, remote)
);

-- The losing side of every conflict, so that nothing a user wrote is silently lost.
create table if not exists public.sync_conflicts (
  id bigint generated always as identity primary key,
  user_id uuid not null references public.users (id) on delete cascade,
  table_name text not null,
  row_key text not null,
  kept text not null,
  reason text not null,
  local_row jsonb,
  remote_row jsonb,
  resolved_at timestamptz not null default now(),
  constraint sync_conflicts_kept_check check (kept in ('local', 'remote'))
);
create index if not exists idx_sync_conflicts_user_id on public.sync_conflicts (user_id);

-- Other people's public bands and playlists, pulled read-only for discovery. Kept apart
-- from the real tables: their owners' rows are not ours to hold.
create table if not exists public.sync_discovery (
  table_name text not null,
  row_key text not null,
  owner_id uuid not null,
  row_data jsonb not null,
  version_at timestamptz not null,
  pulled_at timestamptz not null default now(),
  primary key (table_name, row_key)
);

-- ---------------------------------------------------------------------------------------
-- The trigger. SECURITY DEFINER: a cascade may touch rows of other users (a band's
-- followers), and users may only read the feed, never write it directly.
-- Arguments: the primary-key columns (one or two).
-- ---------------------------------------------------------------------------------------

create or replace function public.sync_record_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r jsonb;
  old_r jsonb;
  k text;
  owner uuid;
  pub boolean := false;
  mode text := coalesce(current_setting('infinite.sync_mode', true), '');
  v timestamptz;
begin
  if tg_op = 'DELETE' then
    r := to_jsonb(old);
  else
    r := to_jsonb(new);
  end if;
  if tg_nargs = 2 then
    k := (r ->> tg_argv[0]) || '/' || (r ->> tg_argv[1]);
  else
    k := r ->> tg_argv[0];
  end if;
  if tg_table_name = 'users' then
    owner := (r ->> 'id')::uuid;
  elsif tg_table_name = 'band_tracks' then
    select b.user_id, coalesce(b.is_public, false) into owner, pub
      from public.bands b where b.id = (r ->> 'band_id')::uuid;
    if owner is null then
      select c.user_id into owner from public.sync_changes c
       where c.table_name = 'band_tracks' and c.row_key = k;
    end if;
    pub := false;
  else
    owner := (r ->> 'user_id')::uuid;
  end if;
  if owner is null then
    return null;
  end if;
  if r ? 'is_public' then
    pub := coalesce((r ->> 'is_public')::boolean, false);
  end if;
  if tg_op = 'UPDATE' then
    old_r := to_jsonb(old);
    if old_r ? 'is_public' then
      pub := pub or coalesce((old_r ->> 'is_public')::boolean, false);
    end if;
  end if;
  if tg_op <> 'DELETE' and r ? 'updated_at' and (r ->> 'updated_at') is not null then
    v := (r ->> 'updated_at')::timestamptz;
  else
    v := clock_timestamp();
  end if;
  insert into public.sync_changes as c
    (table_name, row_key, op, user_id, is_public, version_at, txid, seq, pending, origin)
  values
    (tg_table_name, k, case when tg_op = 'DELETE' then 'delete' else 'upsert' end, owner, pub,
     v, pg_current_xact_id(), nextval('public.sync_changes_seq'), mode = '',
     nullif(current_setting('infinite.sync_device', true), ''))
  on conflict (table_name, row_key) do update
    set op = excluded.op,
        user_id = excluded.user_id,
        is_public = c.is_public or excluded.is_public,
        version_at = excluded.version_at,
        txid = excluded.txid,
        seq = excluded.seq,
        pending = excluded.pending,
        origin = excluded.origin;
  return null;
end;
$$;

revoke execute on function public.sync_record_change() from public;

create or replace trigger users_sync after insert or update or delete on public.users
  for each row execute function public.sync_record_change('id');
create or replace trigger bands_sync after insert or update or delete on public.bands
  for each row execute function public.sync_record_change('id');
create or replace trigger generated_tracks_sync
  after insert or update or delete on public.generated_tracks
  for each row execute function public.sync_record_change('id');
create or replace trigger band_tracks_sync after insert or update or delete on public.band_tracks
  for each row execute function public.sync_record_change('band_id', 'track_id');
create or replace trigger user_playlists_sync
  after insert or update or delete on public.user_playlists
  for each row execute function public.sync_record_change('id');
create or replace trigger user_library_sync
  after insert or update or delete on public.user_library
  for each row execute function public.sync_record_change('id');
create or replace trigger user_follows_sync
  after insert or update or delete on public.user_follows
  for each row execute function public.sync_record_change('user_id', 'band_id');
create or replace trigger user_history_sync
  after insert or update or delete on public.user_history
  for each row execute function public.sync_record_change('id');

-- A synced copy keeps the writer's updated_at (last-writer-wins compares it), so the
-- updated_at triggers stand aside while the sync writes. Same functions, a WHEN added.
create or replace trigger users_updated_at before update on public.users
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') = '')
  execute function public.update_updated_at();
create or replace trigger bands_updated_at before update on public.bands
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') = '')
  execute function public.update_updated_at();
create or replace trigger user_playlists_updated_at before update on public.user_playlists
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') = '')
  execute function public.update_updated_at();

-- Pulled bands arrive with the shared database's counts (which include other people's
-- follows); counting the pulled band_tracks/user_follows again would double them. On the
-- shared database (mode 'push') the counters keep counting: pushes never write them.
create or replace trigger band_tracks_count_insert after insert on public.band_tracks
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') <> 'pull')
  execute function public.increment_band_track_count();
create or replace trigger band_tracks_count_delete after delete on public.band_tracks
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') <> 'pull')
  execute function public.decrement_band_track_count();
create or replace trigger user_follows_count_insert after insert on public.user_follows
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') <> 'pull')
  execute function public.increment_band_follower_count();
create or replace trigger user_follows_count_delete after delete on public.user_follows
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') <> 'pull')
  execute function public.decrement_band_follower_count();

-- Rows that existed before this migration enter the feed once (pending on a device,
-- pullable on the shared database).
insert into public.sync_changes (table_name, row_key, op, user_id, is_public, version_at)
select 'users', id::text, 'upsert', id, false, coalesce(updated_at, now()) from public.users
union all
select 'bands', id::text, 'upsert', user_id, coalesce(is_public, false),
       coalesce(updated_at, now()) from public.bands
union all
select 'generated_tracks', id::text, 'upsert', user_id, false, coalesce(created_at, now())
  from public.generated_tracks
union all
select 'band_tracks', bt.band_id::text || '/' || bt.track_id::text, 'upsert', b.user_id, false,
       coalesce(bt.added_at, now())
  from public.band_tracks bt join public.bands b on b.id = bt.band_id
union all
select 'user_playlists', id::text, 'upsert', user_id, coalesce(is_public, false),
       coalesce(updated_at, now()) from public.user_playlists
union all
select 'user_library', id::text, 'upsert', user_id, false, coalesce(added_at, now())
  from public.user_library
union all
select 'user_follows', user_id::text || '/' || band_id::text, 'upsert', user_id, false,
       coalesce(created_at, now()) from public.user_follows
union all
select 'user_history', id::text, 'upsert', user_id, false, coalesce(played_at, now())
  from public.user_history
on conflict (table_name, row_key) do nothing;

-- ---------------------------------------------------------------------------------------
-- Privileges and row-level security. A user reads the feed entries of their own rows and
-- of public rows (is_public is sticky, so a row that turns private still tells those who
-- pulled it to drop it). The only write a user makes is the version of entries their own
-- push just wrote (the original change time of rows with no updated_at column).
-- ---------------------------------------------------------------------------------------

revoke all on public.sync_changes from anon, authenticated;
grant select on public.sync_changes to authenticated;
grant update (version_at) on public.sync_changes to authenticated;
grant select, insert, update, delete on public.sync_changes to service_role;
grant select, insert, update, delete on public.sync_state, public.sync_conflicts,
  public.sync_discovery to authenticated, service_role;
revoke all on public.sync_state, public.sync_conflicts, public.sync_discovery from anon;

alter table public.sync_changes enable row level security;
alter table public.sync_state enable row level security;
alter table public.sync_conflicts enable row level security;
alter table public.sync_discovery enable row level security;

create policy "Users can read their own and public changes" on public.sync_changes
  for select to authenticated
  using (user_id = (select auth.uid()) or is_public);
create policy "Users can date their own changes" on public.sync_changes
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Service role can manage changes" on public.sync_changes
  for all to service_role using (true) with check (true);

create policy "Users can manage their own sync state" on public.sync_state
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Service role can manage sync state" on public.sync_state
  for all to service_role using (true) with check (true);

create policy "Users can manage their own conflicts" on public.sync_conflicts
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Service role can manage conflicts" on public.sync_conflicts
  for all to service_role using (true) with check (true);

create policy "Discovered rows are readable" on public.sync_discovery
  for select to authenticated using ((select auth.uid()) is not null);
create policy "Service role can manage discovered rows" on public.sync_discovery
  for all to service_role using (true) with check (true);
