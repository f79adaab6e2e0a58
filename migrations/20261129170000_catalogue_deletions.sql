-- The catalogue pull carries deletions (issue 15, db/sync/catalogue.py).
--
-- Until now a device kept for ever an entry deleted on the shared side (or moved to another
-- embedding space): the pull (20261129150000_catalogue_pull.sql) only sees rows that exist.
-- Now every such event leaves a tombstone, and `catalogue_pull` returns the tombstones of
-- its window next to the rows, in one keyset order, so nothing else changes for a device:
-- the same call, the same cursor, the same pages, over both transports.
--
-- Tombstones: one row per (entry id, space it left), re-stamped with the writing
-- transaction when the same entry leaves the same space again, so the table holds at most
-- one row per entry and space ever deleted. Only the id and the space are kept (no names,
-- no paths); the listener's own files (`source = 'local'`) never leave one, and neither do
-- rows without a space (they are never pulled). A tombstone whose entry is live again in
-- that space (moved back, or re-inserted under its id) is not sent: the row itself comes
-- through the window instead, so the order of the two on a device does not matter.
--
-- Public to read like `embeddings` (spec: "Public read access (embeddings are shared)");
-- written only by the trigger. SECURITY DEFINER so that whoever may delete or move an
-- entry (the service role, the project owner) records its tombstone without also needing
-- rights on this table; `search_path` is empty and every name is qualified.

create table if not exists public.embeddings_deleted (
  id uuid not null,
  embedding_space text not null,
  deleted_txid xid8 not null default pg_current_xact_id(),
  deleted_at timestamptz not null default now(),
  primary key (id, embedding_space)
);
comment on table public.embeddings_deleted is
  'Tombstones of shared catalogue entries deleted or moved to another embedding space: the '
  'catalogue pull removes them from devices (catalogue_pull, "deleted").';

create index if not exists idx_embeddings_deleted_change
  on public.embeddings_deleted (deleted_txid, id);

alter table public.embeddings_deleted enable row level security;
drop policy if exists "Embedding deletions are public" on public.embeddings_deleted;
create policy "Embedding deletions are public" on public.embeddings_deleted
  for select to anon, authenticated using (true);
drop policy if exists "Service role can read embedding deletions" on public.embeddings_deleted;
create policy "Service role can read embedding deletions" on public.embeddings_deleted
  for select to service_role using (true);

-- Supabase's default privileges grant every table to anon and authenticated: read only.
revoke all on public.embeddings_deleted from anon, authenticated;
grant select on public.embeddings_deleted to anon, authenticated;
grant select, insert, update, delete on public.embeddings_deleted to service_role;

create or replace function public.embeddings_record_deletion()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.embeddings_deleted (id, embedding_space, deleted_txid, deleted_at)
  values (old.id, old.embedding_space, pg_current_xact_id(), now())
  on conflict (id, embedding_space) do update
    set deleted_txid = excluded.deleted_txid, deleted_at = excluded.deleted_at;
  return null;
end;
$$;
revoke execute on function public.embeddings_record_deletion() from public;

drop trigger if exists embeddings_record_deletion on public.embeddings;
create trigger embeddings_record_deletion
  after delete on public.embeddings
  for each row
  when (old.source <> 'local' and old.embedding_space is not null)
  execute function public.embeddings_record_deletion();

drop trigger if exists embeddings_record_space_move on public.embeddings;
create trigger embeddings_record_space_move
  after update of embedding_space on public.embeddings
  for each row
  when (old.embedding_space is distinct from new.embedding_space
        and old.source <> 'local' and old.embedding_space is not null)
  execute function public.embeddings_record_deletion();

-- The pull, now with the window's tombstones. Same signature, grants and cursor as before;
-- the page is the first `p_limit` events (rows and tombstones) in (transaction, id) order,
-- so `scanned`, `after_tx` and `after_id` keep their meaning. A device that predates this
-- ignores `deleted`.
create or replace function public.catalogue_pull(
  p_space text,
  p_lo text,
  p_hi text,
  p_after_tx text,
  p_after_id text,
  p_limit integer
)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  hi text := coalesce(p_hi, pg_snapshot_xmin(pg_current_snapshot())::text);
  lim integer := least(greatest(p_limit, 1), 5000);
  after_tx xid8 := coalesce(p_after_tx, '0')::xid8;
  after_id uuid := coalesce(p_after_id, '00000000-0000-0000-0000-000000000000')::uuid;
  result jsonb;
begin
  with live as (
    select coalesce(t.change_txid, '0'::xid8) as tx, t.id, false as gone
      from public.embeddings t
     where t.embedding_space = p_space
       and coalesce(t.change_txid, '0'::xid8) >= p_lo::xid8
       and coalesce(t.change_txid, '0'::xid8) < hi::xid8
       and (coalesce(t.change_txid, '0'::xid8), t.id) > (after_tx, after_id)
     order by coalesce(t.change_txid, '0'::xid8), t.id
     limit lim
  ), dead as (
    select d.deleted_txid as tx, d.id, true as gone
      from public.embeddings_deleted d
     where d.embedding_space = p_space
       and d.deleted_txid >= p_lo::xid8
       and d.deleted_txid < hi::xid8
       and (d.deleted_txid, d.id) > (after_tx, after_id)
     order by d.deleted_txid, d.id
     limit lim
  ), scanned as (
    select u.tx, u.id, u.gone
      from (select * from live union all select * from dead) u
     order by u.tx, u.id, u.gone
     limit lim
  ), last as (
    select s.tx, s.id from scanned s order by s.tx desc, s.id desc, s.gone desc limit 1
  )
  select jsonb_build_object(
           'hi', hi,
           -- events scanned (a full page means there may be more), and where the page ended
           'scanned', (select count(*) from scanned),
           'after_tx', (select l.tx::text from last l),
           'after_id', (select l.id from last l),
           'rows', coalesce((
             select jsonb_agg(jsonb_build_object(
                      'id', t.id, 'track_id', t.track_id, 'track_name', t.track_name,
                      'artist', t.artist, 'vector', t.vector::text, 'genre', t.genre,
                      'source', t.source, 'created_at', t.created_at,
                      'embedding_space', t.embedding_space) order by s.tx, s.id)
               from scanned s
               join public.embeddings t on t.id = s.id
              where not s.gone and t.source <> 'local' and t.track_id is not null),
             '[]'::jsonb),
           -- entries that left this space and are not back in it
           'deleted', coalesce((
             select jsonb_agg(s.id order by s.tx, s.id)
               from scanned s
              where s.gone
                and not exists (select 1 from public.embeddings e
                                 where e.id = s.id and e.embedding_space = p_space)),
             '[]'::jsonb))
    into result;
  return result;
end;
$$;

revoke execute on function public.catalogue_pull(text, text, text, text, text, integer)
  from public;
grant execute on function public.catalogue_pull(text, text, text, text, text, integer)
  to anon, authenticated, service_role;
