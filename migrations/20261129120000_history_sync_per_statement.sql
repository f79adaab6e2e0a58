-- Imports write hundreds of thousands of user_history rows in one statement; the sync
-- outbox trigger ran once per row (a PL/pgSQL call, two to_jsonb and one upsert each) and
-- cost two thirds of an import's time. Inserts into user_history are now recorded once
-- per statement from the transition table: the same sync_changes rows, one set-based
-- upsert. Updates and deletes (rare: one row at a time) keep the row trigger.

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

drop trigger if exists user_history_sync on public.user_history;
create trigger user_history_sync
  after update or delete on public.user_history
  for each row execute function public.sync_record_change('id');
create trigger user_history_sync_inserts
  after insert on public.user_history
  referencing new table as inserted
  for each statement execute function public.sync_record_history_inserts();
