-- Imports insert tens of thousands of user_history rows per statement. Profiled on the
-- embedded server (backend CPU per 100 000 rows inserted as the user, 2026-11-29): the
-- statement-level outbox trigger of 20261129120000 took ~2.1 s of ~5.7 s, most of it
-- in sync_changes' primary key, (table_name, row_key), because the rows came in the
-- random order of their uuid keys and every insert touched another leaf page. Fed in
-- key order, each leaf page is visited once: ~1.0 s. The rows written are the same;
-- only the order in which one statement's entries are inserted (and so which of them
-- gets which seq number, all in the same transaction) changes.
-- The function keeps its name, arguments, owner and triggers (db/sync relies on them).

create or replace function public.sync_record_history_inserts()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  mode text := coalesce(current_setting('infinite.sync_mode', true), '');
begin
  insert into public.sync_changes as c
    (table_name, row_key, op, user_id, is_public, version_at, txid, seq, pending, origin)
  select 'user_history', i.id::text, 'upsert', i.user_id, false, clock_timestamp(),
         pg_current_xact_id(), nextval('public.sync_changes_seq'), mode = '',
         nullif(current_setting('infinite.sync_device', true), '')
    from inserted i
   where i.user_id is not null
   order by i.id::text
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

revoke execute on function public.sync_record_history_inserts() from public;
