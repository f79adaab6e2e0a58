-- The shared catalogue reaches devices through sync (issue 15, db/sync/catalogue.py).
--
-- `embeddings` is public to read (spec: "Public read access (embeddings are shared)") and
-- written by the service role, so it has no outbox entries. A device pulls the entries of
-- ITS embedding space that changed since its last pull. Why a function rather than
-- PostgREST's table endpoint (`GET /rest/v1/embeddings?...`):
--   * one `jsonb` value per call, so Supabase's `max_rows` cap (1000) cannot cut a page
--     short, and the window bound `hi` comes from the same snapshot as the page;
--   * the same call serves both sync transports (db/sync/remote.py), as the other sync
--     functions do;
--   * SECURITY INVOKER, granted to anon and authenticated: the table's own
--     "Embeddings are public" policy decides, nothing is widened.
--
-- The cursor. `created_at` is not one: a row committed by a slow transaction can carry an
-- older `created_at` than rows already pulled (it would be skipped for ever), and an
-- update (re-embedding) keeps it. So each row carries the id of the transaction that last
-- wrote it (`change_txid`, set on insert by default and on update by trigger), and a pull
-- reads the window `lo <= change_txid < pg_snapshot_xmin(pg_current_snapshot())`, the
-- rule of the sync feed (20261125060000_sync.sql): every transaction below `hi` has
-- finished, so nothing can still arrive inside the window. Rows from before this
-- migration have no `change_txid` and count as transaction 0 (added without a default and
-- without backfill: no table rewrite, no HNSW rebuild on a large shared catalogue).
-- A pull with nothing new is one index probe.

alter table public.embeddings add column if not exists change_txid xid8;
alter table public.embeddings alter column change_txid set default pg_current_xact_id();
comment on column public.embeddings.change_txid is
  'Transaction that last wrote the row: the cursor of the catalogue pull (null = before it).';

create or replace function public.embeddings_stamp_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.change_txid := pg_current_xact_id();
  return new;
end;
$$;

drop trigger if exists embeddings_stamp_change on public.embeddings;
create trigger embeddings_stamp_change
  before update on public.embeddings
  for each row execute function public.embeddings_stamp_change();

-- Not led by embedding_space: an index on the space would compete with the HNSW index
-- for every similarity search filtered by space (the planner took it, then sorted).
-- A pull scans the window in order and filters by space; with nothing new the window is
-- empty and the scan touches one index page.
create index if not exists idx_embeddings_change
  on public.embeddings ((coalesce(change_txid, '0'::xid8)), id);

-- One page of the catalogue window of one space, in (change_txid, id) order. `p_hi` null
-- opens a window (its bound is returned); later pages pass it back. Vectors travel as
-- pgvector's text form. The listener's own files (`source = 'local'`) never leave a device
-- through this, should one ever reach a shared database.
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
  result jsonb;
begin
  with scanned as (
    select t.*, coalesce(t.change_txid, '0'::xid8) as tx
      from public.embeddings t
     where t.embedding_space = p_space
       and coalesce(t.change_txid, '0'::xid8) >= p_lo::xid8
       and coalesce(t.change_txid, '0'::xid8) < hi::xid8
       and (coalesce(t.change_txid, '0'::xid8), t.id)
           > (coalesce(p_after_tx, '0')::xid8,
              coalesce(p_after_id, '00000000-0000-0000-0000-000000000000')::uuid)
     order by coalesce(t.change_txid, '0'::xid8), t.id
     limit least(greatest(p_limit, 1), 5000)
  ), last as (
    select s.tx, s.id from scanned s order by s.tx desc, s.id desc limit 1
  )
  select jsonb_build_object(
           'hi', hi,
           -- rows scanned (a full page means there may be more), and where the page ended
           'scanned', (select count(*) from scanned),
           'after_tx', (select l.tx::text from last l),
           'after_id', (select l.id from last l),
           'rows', coalesce((
             select jsonb_agg(jsonb_build_object(
                      'id', s.id, 'track_id', s.track_id, 'track_name', s.track_name,
                      'artist', s.artist, 'vector', s.vector::text, 'genre', s.genre,
                      'source', s.source, 'created_at', s.created_at,
                      'embedding_space', s.embedding_space) order by s.tx, s.id)
               from scanned s
              where s.source <> 'local' and s.track_id is not null), '[]'::jsonb))
    into result;
  return result;
end;
$$;

revoke execute on function public.catalogue_pull(text, text, text, text, text, integer)
  from public;
grant execute on function public.catalogue_pull(text, text, text, text, text, integer)
  to anon, authenticated, service_role;

-- Where this device's catalogue pull stands, per embedding space: {"<space>": "<txid>"}.
alter table public.sync_state
  add column if not exists catalogue_cursor jsonb not null default '{}'::jsonb;
