-- Sync through the Data API (issue 14, db/sync/). A desktop must never hold credentials
-- that can skip row-level security: on Supabase the database URL logs in as the owner of
-- every table. Push and pull therefore become functions a signed-in user calls over
-- PostgREST RPC with their own access token:
--   * SECURITY INVOKER: they run as the caller (role `authenticated`, claims from the JWT),
--     so RLS decides every row they read or write, exactly as for a plain query;
--   * one call = one transaction (PostgREST runs each request in one; the direct mode
--     calls them one per transaction too);
--   * table names come only from sync_spec(), identifiers are quoted with format(%I), and
--     values travel as parameters: no caller text becomes SQL;
--   * a push never writes server-owned columns (`premium`, `daily_count`,
--     `daily_count_date`, band counters): they are left out of every column list here, and
--     the grants refuse them anyway.
-- The rules are those of 20261125060000_sync.sql: last writer wins on `updated_at`
-- (inserts-only tables never change a stored row), tombstones, and the change-feed cursor
-- `pg_snapshot_xmin(pg_current_snapshot())` that never skips a slow transaction.
--
-- No FORCE ROW LEVEL SECURITY: it binds only a table's owner, and on Supabase that owner
-- (`postgres`) has BYPASSRLS, which FORCE does not override; an owner may also simply
-- disable RLS. The defence is that no desktop holds the owner's login any more. FORCE would
-- also break the SECURITY DEFINER triggers that keep the feed and the band counters.

-- What the functions know about each synced table (mirrors db/sync/tables.py; a test keeps
-- the two equal). Pure: exposing it over the API reveals nothing.
create or replace function public.sync_spec(p_table text)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
  s jsonb;
  pk text[];
begin
  s := case p_table
    when 'users' then '{"pk": ["id"], "updated_at": "updated_at", "updatable": true,
      "server_columns": ["premium", "daily_count", "daily_count_date"], "natural_key": []}'
    when 'bands' then '{"pk": ["id"], "updated_at": "updated_at", "updatable": true,
      "server_columns": ["track_count", "follower_count"], "natural_key": []}'
    when 'generated_tracks' then '{"pk": ["id"], "updated_at": null, "updatable": true,
      "server_columns": [], "natural_key": []}'
    when 'band_tracks' then '{"pk": ["band_id", "track_id"], "updated_at": null,
      "updatable": false, "server_columns": [], "natural_key": []}'
    when 'user_playlists' then '{"pk": ["id"], "updated_at": "updated_at", "updatable": true,
      "server_columns": [], "natural_key": []}'
    when 'user_library' then '{"pk": ["id"], "updated_at": null, "updatable": false,
      "server_columns": [], "natural_key": ["user_id", "track_id"]}'
    when 'user_follows' then '{"pk": ["user_id", "band_id"], "updated_at": null,
      "updatable": false, "server_columns": [], "natural_key": []}'
    when 'user_history' then '{"pk": ["id"], "updated_at": null, "updatable": false,
      "server_columns": [],
      "natural_key": ["user_id", "platform", "played_at", "track_name", "artist"]}'
    when 'listener_models' then '{"pk": ["user_id"], "updated_at": "updated_at",
      "updatable": true, "server_columns": [], "natural_key": []}'
  end::jsonb;
  if s is null then
    raise exception 'sync: % is not a synced table', coalesce(quote_literal(p_table), 'null')
      using errcode = '22023';
  end if;
  pk := array(select jsonb_array_elements_text(s -> 'pk'));
  -- SQL fragments over alias t (the table) and v (a recordset with row_key text).
  if array_length(pk, 1) = 1 then
    s := s || jsonb_build_object(
      'key_sql', format('t.%I::text', pk[1]),
      'match_sql', format('t.%I = any(cast($1 as uuid[]))', pk[1]),
      'join_sql', format('t.%I = v.row_key::uuid', pk[1]));
  else
    s := s || jsonb_build_object(
      'key_sql', format('t.%I::text || ''/'' || t.%I::text', pk[1], pk[2]),
      'match_sql', format('t.%I::text || ''/'' || t.%I::text = any($1)', pk[1], pk[2]),
      'join_sql', format(
        't.%I = split_part(v.row_key, ''/'', 1)::uuid and t.%I = split_part(v.row_key, ''/'', 2)::uuid',
        pk[1], pk[2]));
  end if;
  return s;
end;
$$;

-- Where a pull starts: the end of the window that is complete (every transaction below
-- the oldest running one has finished), the caller's users row, and which tables have
-- entries in [p_lo, hi) written by other devices.
create or replace function public.sync_begin(p_lo text, p_device text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  hi text := pg_snapshot_xmin(pg_current_snapshot())::text;
begin
  return jsonb_build_object(
    'hi', hi,
    'user', (select to_jsonb(t.*) from public.users t where t.id = (select auth.uid())),
    'tables', coalesce((
      select jsonb_agg(distinct c.table_name) from public.sync_changes c
       where c.txid >= p_lo::xid8 and c.txid < hi::xid8
         and c.origin is distinct from p_device), '[]'::jsonb));
end;
$$;

-- One page of one table's feed window, in (txid, row_key) order, with the rows the caller
-- may see, read in the same transaction (a consistent pair). An upsert entry whose row is
-- absent (deleted since, or private now) is the caller's to treat as a deletion.
create or replace function public.sync_pull(
  p_table text,
  p_lo text,
  p_hi text,
  p_device text,
  p_after_tx text,
  p_after_key text,
  p_limit integer
)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  s jsonb := public.sync_spec(p_table);
  page jsonb;
  keys text[];
  found jsonb;
begin
  select coalesce(jsonb_agg(jsonb_build_object(
           'row_key', c.row_key, 'op', c.op, 'user_id', c.user_id,
           'version_at', c.version_at, 'txid', c.txid::text) order by c.txid, c.row_key),
         '[]'::jsonb)
    into page
    from (select * from public.sync_changes c
           where c.table_name = p_table
             and c.txid >= p_lo::xid8 and c.txid < p_hi::xid8
             and c.origin is distinct from p_device
             and (c.txid, c.row_key) > (p_after_tx::xid8, p_after_key)
           order by c.txid, c.row_key
           limit least(greatest(p_limit, 1), 5000)) c;
  keys := array(select e ->> 'row_key' from jsonb_array_elements(page) e
                 where e ->> 'op' = 'upsert');
  -- By primary key, not joined: on fresh tables a join may be planned as a nested loop.
  execute format(
    'select coalesce(jsonb_object_agg(%s, to_jsonb(t.*)), ''{}''::jsonb) from public.%I t where %s',
    s ->> 'key_sql', p_table, s ->> 'match_sql')
    into found using keys;
  return jsonb_build_object('entries', page, 'rows', found);
end;
$$;

-- The caller's current view of some rows, with the version the feed holds for each, and —
-- for tables with a natural key — the row stored under another id for each probe row.
create or replace function public.sync_rows(p_table text, p_keys text[], p_probes jsonb)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  s jsonb := public.sync_spec(p_table);
  found jsonb;
  twins jsonb := '{}'::jsonb;
  nk text;
begin
  execute format(
    'select coalesce(jsonb_object_agg(%1$s, jsonb_build_object(''row'', to_jsonb(t.*), '
    '''version_at'', c.version_at)), ''{}''::jsonb) from public.%2$I t '
    'left join public.sync_changes c on c.table_name = %3$L and c.row_key = %1$s where %4$s',
    s ->> 'key_sql', p_table, p_table, s ->> 'match_sql')
    into found using coalesce(p_keys, '{}');
  if jsonb_array_length(s -> 'natural_key') > 0
     and jsonb_typeof(p_probes) = 'array' and jsonb_array_length(p_probes) > 0 then
    select string_agg(format('t.%1$I = r.%1$I', col), ' and ')
      into nk from jsonb_array_elements_text(s -> 'natural_key') col;
    execute format(
      'select coalesce(jsonb_object_agg(p.value ->> ''row_key'', jsonb_build_object('
      '''key'', %1$s, ''row'', to_jsonb(t.*), ''version_at'', now())), ''{}''::jsonb) '
      'from jsonb_array_elements($1) p '
      'cross join lateral jsonb_populate_record(null::public.%2$I, p.value -> ''row'') r '
      'join public.%2$I t on %3$s',
      s ->> 'key_sql', p_table, nk)
      into twins using p_probes;
  end if;
  return jsonb_build_object('found', found, 'twins', twins);
end;
$$;

-- Write one batch of the caller's changes: p_entries = [{row_key, version_at, row}] (row
-- absent for deletions). Returns the keys the shared database took; the others it refused
-- (its row is newer, or its rules keep the row) and the caller takes the shared version.
create or replace function public.sync_push(
  p_table text, p_op text, p_entries jsonb, p_device text
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  s jsonb := public.sync_spec(p_table);
  versions jsonb;
  rows jsonb;
  keys text[];
  done text[];
  present text[];
  cols text[];
  col_list text;
  conflict text;
  guard text := '';
  r jsonb;
  their_space text;
  has_row boolean;
  user_cols text[];
  got text;
begin
  if p_op is null or p_op not in ('upsert', 'delete') then
    raise exception 'sync: op must be upsert or delete, not %', coalesce(p_op, 'null')
      using errcode = '22023';
  end if;
  if jsonb_typeof(p_entries) is distinct from 'array' then
    raise exception 'sync: entries must be a JSON array' using errcode = '22023';
  end if;
  -- The copy keeps the writer's updated_at and the feed entry names the device.
  perform set_config('infinite.sync_mode', 'push', true),
          set_config('infinite.sync_device', coalesce(p_device, ''), true);
  select coalesce(jsonb_agg(jsonb_build_object(
           'row_key', e ->> 'row_key', 'version_at', e -> 'version_at')), '[]'::jsonb),
         coalesce(array_agg(e ->> 'row_key'), '{}'),
         coalesce(jsonb_agg(e -> 'row') filter (where e ? 'row'), '[]'::jsonb)
    into versions, keys, rows
    from jsonb_array_elements(p_entries) e;

  if p_op = 'delete' then
    if s ->> 'updated_at' is not null then
      guard := format(' and t.%I <= v.version_at', s ->> 'updated_at');
    end if;
    execute format(
      'with d as (delete from public.%I t using jsonb_to_recordset($1) '
      'as v(row_key text, version_at timestamptz) where %s%s returning %s as k) '
      'select coalesce(array_agg(k), ''{}'') from d',
      p_table, s ->> 'join_sql', guard, s ->> 'key_sql')
      into done using versions;
    -- A tombstone for a row the shared side never had (created and deleted on the
    -- device) is done too.
    execute format('select coalesce(array_agg(%s), ''{}'') from public.%I t where %s',
                   s ->> 'key_sql', p_table, s ->> 'match_sql')
      into present using keys;
    done := done || array(select k from unnest(keys) k where k <> all(present));
  elsif p_table = 'users' then
    -- Only the columns a user may write (the grants say the same); the taste vector only
    -- into the same embedding space, or where the shared row has none yet.
    done := '{}';
    for r in select e -> 'row' from jsonb_array_elements(p_entries) e loop
      has_row := null;
      their_space := null;
      select true, u.embedding_space into has_row, their_space
        from public.users u where u.id = (r ->> 'id')::uuid;
      user_cols := array['email', 'preferences_profile', 'onboarding_completed', 'updated_at'];
      if has_row is null or their_space is null or their_space = r ->> 'embedding_space' then
        user_cols := user_cols || array['taste_vector', 'embedding_space'];
      end if;
      got := null;
      if has_row is null then
        execute format(
          'insert into public.users as t (id, created_at, %1$s) select id, created_at, %1$s '
          'from jsonb_populate_record(null::public.users, $1) '
          'on conflict (id) do nothing returning t.id::text',
          (select string_agg(format('%I', c), ', ') from unnest(user_cols) c))
          into got using r;
      else
        execute format(
          'update public.users as t set %s from jsonb_populate_record(null::public.users, $1) '
          'as r where t.id = r.id and t.updated_at <= r.updated_at returning t.id::text',
          (select string_agg(format('%1$I = r.%1$I', c), ', ') from unnest(user_cols) c))
          into got using r;
      end if;
      if got is not null then
        done := done || got;
      end if;
    end loop;
  else
    cols := array(
      select a.attname::text from pg_catalog.pg_attribute a
       where a.attrelid = format('public.%I', p_table)::regclass
         and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
         and not ((s -> 'server_columns') ? a.attname::text)
       order by a.attnum);
    col_list := (select string_agg(format('%I', c), ', ') from unnest(cols) c);
    if (s ->> 'updatable')::boolean then
      if s ->> 'updated_at' is not null then
        guard := format(' where t.%1$I <= excluded.%1$I', s ->> 'updated_at');
      end if;
      conflict := format(
        'on conflict (%s) do update set %s%s',
        (select string_agg(format('%I', c), ', ') from jsonb_array_elements_text(s -> 'pk') c),
        (select string_agg(format('%1$I = excluded.%1$I', c), ', ') from unnest(cols) c
          where not ((s -> 'pk') ? c)),
        guard);
    else
      conflict := 'on conflict do nothing';
    end if;
    execute format(
      'with w as (insert into public.%1$I as t (%2$s) select %2$s '
      'from jsonb_populate_recordset(null::public.%1$I, $1) %3$s returning %4$s as k) '
      'select coalesce(array_agg(k), ''{}'') from w',
      p_table, col_list, conflict, s ->> 'key_sql')
      into done using rows;
  end if;

  if s ->> 'updated_at' is null or p_op = 'delete' then
    -- The feed entry carries when the change happened on the device, not when it arrived.
    update public.sync_changes c set version_at = v.version_at
      from jsonb_to_recordset(versions) as v(row_key text, version_at timestamptz)
     where c.table_name = p_table and c.row_key = v.row_key
       and c.txid = pg_current_xact_id();
  end if;
  return to_jsonb(done);
end;
$$;

-- The shared database's migration ledger, for the schema check before a sync: callers
-- over the API cannot read supabase_migrations themselves. Versions and names only.
create or replace function public.sync_schema()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found jsonb;
begin
  execute 'select coalesce(jsonb_object_agg(version, coalesce(name, '''')), ''{}''::jsonb) '
          'from supabase_migrations.schema_migrations'
    into found;
  return found;
exception when undefined_table then
  return '{}'::jsonb;
end;
$$;

-- Whether this device's earlier direct-URL syncs reached this database: its device id is
-- the origin of feed entries here (RLS: the caller's own entries). Lets a device moving to
-- the Data API keep its cursor instead of pulling everything again.
create or replace function public.sync_knows_device(p_device text)
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select exists (select 1 from public.sync_changes c
                  where c.origin = p_device and c.user_id = (select auth.uid()));
$$;

-- Functions are executable by PUBLIC by default: only signed-in users may call these.
revoke execute on function public.sync_begin(text, text), public.sync_pull(text, text, text,
  text, text, text, integer), public.sync_rows(text, text[], jsonb), public.sync_push(text,
  text, jsonb, text), public.sync_schema(), public.sync_knows_device(text)
  from public, anon;
grant execute on function public.sync_begin(text, text), public.sync_pull(text, text, text,
  text, text, text, integer), public.sync_rows(text, text[], jsonb), public.sync_push(text,
  text, jsonb, text), public.sync_schema(), public.sync_knows_device(text)
  to authenticated, service_role;

-- A follow bumps the band's follower_count (a SECURITY DEFINER trigger), so following a
-- band one cannot see would change another user's private row: follows are limited to
-- public bands and one's own (the hostile-client tests found this).
drop policy if exists "Users can follow bands" on public.user_follows;
create policy "Users can follow bands" on public.user_follows
  for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and exists (select 1 from public.bands b
                 where b.id = band_id and (b.is_public or b.user_id = (select auth.uid())))
  );

-- ---------------------------------------------------------------------------------------
-- Audio in Supabase Storage: bucket `tracks`, private, one folder per user
-- (`<user id>/<track id>.<ext>`). Storage checks these policies with the user's token.
-- Guarded so an old local database without the Storage stand-in (db/compat.sql) still
-- migrates; every Supabase project has the storage schema.
-- ---------------------------------------------------------------------------------------
do $$
begin
  if to_regclass('storage.objects') is null then
    return;
  end if;
  insert into storage.buckets (id, name, public) values ('tracks', 'tracks', false)
    on conflict (id) do nothing;
  drop policy if exists "Listeners read their own audio" on storage.objects;
  drop policy if exists "Listeners upload their own audio" on storage.objects;
  drop policy if exists "Listeners replace their own audio" on storage.objects;
  drop policy if exists "Listeners delete their own audio" on storage.objects;
  create policy "Listeners read their own audio" on storage.objects
    for select to authenticated
    using (bucket_id = 'tracks'
           and (storage.foldername(name))[1] = (select auth.uid())::text);
  create policy "Listeners upload their own audio" on storage.objects
    for insert to authenticated
    with check (bucket_id = 'tracks'
                and (storage.foldername(name))[1] = (select auth.uid())::text);
  create policy "Listeners replace their own audio" on storage.objects
    for update to authenticated
    using (bucket_id = 'tracks'
           and (storage.foldername(name))[1] = (select auth.uid())::text)
    with check (bucket_id = 'tracks'
                and (storage.foldername(name))[1] = (select auth.uid())::text);
  create policy "Listeners delete their own audio" on storage.objects
    for delete to authenticated
    using (bucket_id = 'tracks'
           and (storage.foldername(name))[1] = (select auth.uid())::text);
end
$$;
