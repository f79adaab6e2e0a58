-- The radio's listener model, one row per user (issue 13; player/taste/store.py).
--
-- The model learns online from likes, skips and listens; keeping it here lets the next
-- session start where the last one ended, and lets it travel between a user's devices
-- like their other rows. `state` is the model itself, opaque to the database (the app
-- caps it at 256 KB). `embedding_space` names the space its embedding part was learned
-- in: that part means nothing in another space (see 20261125030000_embedding_spaces.sql).
-- `version` counts the saves of the row (1 on the first save). "Reset what the radio
-- learned" deletes the row; the sync carries the deletion to the other devices as a
-- tombstone.

create table if not exists public.listener_models (
  user_id uuid primary key references public.users (id) on delete cascade,
  embedding_space text,
  state jsonb not null default '{}'::jsonb,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- The same updated_at function as the other tables; like theirs since the sync
-- migration, it stands aside while the sync writes, so a synced copy keeps the writer's
-- time (last writer wins compares it).
create or replace trigger listener_models_updated_at before update on public.listener_models
  for each row when (coalesce(current_setting('infinite.sync_mode', true), '') = '')
  execute function public.update_updated_at();

-- Synced like the user's other rows (20261125060000_sync.sql): every change lands in the
-- outbox in its own transaction. Key: user_id.
create or replace trigger listener_models_sync
  after insert or update or delete on public.listener_models
  for each row execute function public.sync_record_change('user_id');

-- ---------------------------------------------------------------------------------------
-- Privileges and row-level security: the owner reads and writes their own row; anon has
-- nothing (Supabase's default privileges would grant it, so they are revoked); the
-- service role has full access, as the spec gives it everywhere.
-- ---------------------------------------------------------------------------------------

revoke all on public.listener_models from anon;
grant select, insert, update, delete on public.listener_models to authenticated, service_role;

alter table public.listener_models enable row level security;

create policy "Users can read their own listener model" on public.listener_models
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users can insert their own listener model" on public.listener_models
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users can update their own listener model" on public.listener_models
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users can delete their own listener model" on public.listener_models
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Service role can manage listener models" on public.listener_models
  for all to service_role using (true) with check (true);
