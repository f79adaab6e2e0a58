-- Infinite Player: the shared schema (spec: shared/spec/database-architecture.md).
--
-- Applied unchanged by `supabase db push` and by `infinite-player db migrate`.
-- Runs as a NON-superuser owner (Supabase's `postgres` role is not one); creates nothing in
-- schema `auth` (that belongs to Supabase; plain Postgres gets it from db/compat.sql) and
-- needs no `uuid-ossp`/`pgcrypto`: gen_random_uuid() is built into PostgreSQL 13+.

create extension if not exists vector;

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

create or replace function public.update_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------

create table public.users (
  id uuid primary key default gen_random_uuid(),
  email text unique not null,
  taste_vector vector(768),
  preferences_profile jsonb default '{}'::jsonb,
  daily_count integer default 0,
  premium boolean default false,
  onboarding_completed boolean default false,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  constraint users_daily_count_nonnegative check (daily_count >= 0)
);

create table public.user_history (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users (id) on delete cascade,
  platform text not null,
  track_id text,
  track_name text not null,
  artist text not null,
  album text,
  played_at timestamptz default now(),
  play_count integer default 1,
  constraint user_history_platform_check
    check (platform in ('spotify', 'apple', 'youtube', 'infinite')),
  constraint user_history_play_count_positive check (play_count > 0)
);

create table public.embeddings (
  id uuid primary key default gen_random_uuid(),
  track_id text unique,
  track_name text not null,
  artist text not null,
  vector vector(768) not null,
  genre text[] default '{}',
  source text not null,
  created_at timestamptz default now(),
  constraint embeddings_source_check
    check (source in ('musicbrainz', 'spotify', 'fma', 'jamendo'))
);

create table public.bands (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users (id) on delete cascade,
  name text not null,
  bio text,
  cover_url text,
  style_vector vector(768),
  track_count integer default 0,
  follower_count integer default 0,
  is_public boolean default true,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  constraint bands_track_count_nonnegative check (track_count >= 0),
  constraint bands_follower_count_nonnegative check (follower_count >= 0)
);

create table public.generated_tracks (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users (id) on delete cascade,
  url text not null,
  duration integer not null,
  mode text not null,
  source_id uuid references public.generated_tracks (id) on delete set null,
  source_external_id text,
  explanation text,
  match_percentage integer,
  status text default 'completed',
  band_id uuid references public.bands (id) on delete set null,
  created_at timestamptz default now(),
  constraint generated_tracks_duration_positive check (duration > 0),
  constraint generated_tracks_mode_check check (mode in ('new', 'similar', 'extend', 'radio')),
  constraint generated_tracks_status_check
    check (status in ('queued', 'generating', 'completed', 'failed')),
  constraint generated_tracks_match_percentage_range
    check (match_percentage between 0 and 100)
);

create table public.band_tracks (
  band_id uuid not null references public.bands (id) on delete cascade,
  track_id uuid not null references public.generated_tracks (id) on delete cascade,
  added_at timestamptz default now(),
  primary key (band_id, track_id)
);

create table public.user_playlists (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users (id) on delete cascade,
  name text not null,
  description text,
  tracks jsonb default '[]'::jsonb,
  is_public boolean default false,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  constraint user_playlists_tracks_is_array check (jsonb_typeof(tracks) = 'array')
);

create table public.user_library (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users (id) on delete cascade,
  track_id uuid not null references public.generated_tracks (id) on delete cascade,
  added_at timestamptz default now()
);

create table public.user_follows (
  user_id uuid not null references public.users (id) on delete cascade,
  band_id uuid not null references public.bands (id) on delete cascade,
  created_at timestamptz default now(),
  primary key (user_id, band_id)
);

create table public.oauth_connections (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users (id) on delete cascade,
  platform text not null,
  access_token text not null,
  refresh_token text,
  expires_at timestamptz,
  last_synced_at timestamptz,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  constraint oauth_connections_platform_check
    check (platform in ('spotify', 'apple', 'youtube'))
);

-- ---------------------------------------------------------------------------------------
-- Indexes (names as in the spec). Vector indexes: ivfflat, lists = 100, cosine distance —
-- every stored vector is L2-normalised, so cosine order equals inner-product order.
-- ---------------------------------------------------------------------------------------

create index idx_users_email on public.users (email);
create index idx_users_taste_vector on public.users
  using ivfflat (taste_vector vector_cosine_ops) with (lists = 100);

create index idx_user_history_user_id on public.user_history (user_id);
create index idx_user_history_played_at on public.user_history (played_at desc);
create index idx_user_history_user_played on public.user_history (user_id, played_at desc);

create index idx_embeddings_track_id on public.embeddings (track_id);
create index idx_embeddings_vector on public.embeddings
  using ivfflat (vector vector_cosine_ops) with (lists = 100);
create index idx_embeddings_artist on public.embeddings (artist);

create index idx_generated_tracks_user_id on public.generated_tracks (user_id);
create index idx_generated_tracks_created_at on public.generated_tracks (created_at desc);
create index idx_generated_tracks_band_id on public.generated_tracks (band_id);
create index idx_generated_tracks_status on public.generated_tracks (status);

create index idx_bands_user_id on public.bands (user_id);
create index idx_bands_style_vector on public.bands
  using ivfflat (style_vector vector_cosine_ops) with (lists = 100);
create index idx_bands_created_at on public.bands (created_at desc);

create index idx_band_tracks_band_id on public.band_tracks (band_id);
create index idx_band_tracks_track_id on public.band_tracks (track_id);

create index idx_user_playlists_user_id on public.user_playlists (user_id);
create index idx_user_playlists_created_at on public.user_playlists (created_at desc);

create index idx_user_library_user_id on public.user_library (user_id);
create index idx_user_library_track_id on public.user_library (track_id);
create unique index idx_user_library_user_track on public.user_library (user_id, track_id);

create index idx_user_follows_user_id on public.user_follows (user_id);
create index idx_user_follows_band_id on public.user_follows (band_id);

create index idx_oauth_connections_user_id on public.oauth_connections (user_id);
create index idx_oauth_connections_platform on public.oauth_connections (platform);
create unique index idx_oauth_connections_user_platform
  on public.oauth_connections (user_id, platform);

-- ---------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------

create trigger users_updated_at before update on public.users
  for each row execute function public.update_updated_at();
create trigger bands_updated_at before update on public.bands
  for each row execute function public.update_updated_at();
create trigger user_playlists_updated_at before update on public.user_playlists
  for each row execute function public.update_updated_at();
create trigger oauth_connections_updated_at before update on public.oauth_connections
  for each row execute function public.update_updated_at();

-- Counters are kept by triggers so they stay right whoever writes band_tracks/user_follows.
-- SECURITY DEFINER: a follower is not the band's owner, and RLS would otherwise hide the
-- band row from the follower's UPDATE. Each count is one atomic UPDATE, so concurrent
-- follows never lose an increment.

create or replace function public.increment_band_track_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.bands set track_count = track_count + 1 where id = new.band_id;
  return new;
end;
$$;

create or replace function public.decrement_band_track_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.bands set track_count = greatest(track_count - 1, 0) where id = old.band_id;
  return old;
end;
$$;

create or replace function public.increment_band_follower_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.bands set follower_count = follower_count + 1 where id = new.band_id;
  return new;
end;
$$;

create or replace function public.decrement_band_follower_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.bands set follower_count = greatest(follower_count - 1, 0)
   where id = old.band_id;
  return old;
end;
$$;

create trigger band_tracks_count_insert after insert on public.band_tracks
  for each row execute function public.increment_band_track_count();
create trigger band_tracks_count_delete after delete on public.band_tracks
  for each row execute function public.decrement_band_track_count();
create trigger user_follows_count_insert after insert on public.user_follows
  for each row execute function public.increment_band_follower_count();
create trigger user_follows_count_delete after delete on public.user_follows
  for each row execute function public.decrement_band_follower_count();

revoke execute on function public.increment_band_track_count() from public;
revoke execute on function public.decrement_band_track_count() from public;
revoke execute on function public.increment_band_follower_count() from public;
revoke execute on function public.decrement_band_follower_count() from public;

-- ---------------------------------------------------------------------------------------
-- Privileges. Supabase grants these by default; stating them makes a plain Postgres behave
-- the same. RLS below decides which rows. `premium` and `daily_count` are the server's to
-- decide, so a user may update only the columns they own.
-- ---------------------------------------------------------------------------------------

grant usage on schema public to anon, authenticated, service_role;
grant select, insert, update, delete on all tables in schema public
  to anon, authenticated, service_role;
revoke insert, update on public.users from anon, authenticated;
grant insert (id, email, taste_vector, preferences_profile, onboarding_completed,
              created_at, updated_at)
  on public.users to authenticated;
grant update (email, taste_vector, preferences_profile, onboarding_completed, updated_at)
  on public.users to authenticated;

-- ---------------------------------------------------------------------------------------
-- Row-level security (auth.uid() wrapped in a sub-select so Postgres evaluates it once per
-- statement, not once per row — Supabase's recommendation).
-- ---------------------------------------------------------------------------------------

alter table public.users enable row level security;
alter table public.user_history enable row level security;
alter table public.embeddings enable row level security;
alter table public.generated_tracks enable row level security;
alter table public.bands enable row level security;
alter table public.band_tracks enable row level security;
alter table public.user_playlists enable row level security;
alter table public.user_library enable row level security;
alter table public.user_follows enable row level security;
alter table public.oauth_connections enable row level security;

-- users: own row. Inserting one's own row (id = auth.uid()) lets a signed-in device create
-- its profile on the shared database; nobody can create a row for someone else.
create policy "Users can read their own row" on public.users
  for select to authenticated using (id = (select auth.uid()));
create policy "Users can insert their own row" on public.users
  for insert to authenticated with check (id = (select auth.uid()));
create policy "Users can update their own row" on public.users
  for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));
create policy "Service role can read all users" on public.users
  for select to service_role using (true);
create policy "Service role can insert users" on public.users
  for insert to service_role with check (true);
create policy "Service role can update all users" on public.users
  for update to service_role using (true) with check (true);

-- user_history: read/insert own.
create policy "Users can read their own history" on public.user_history
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users can insert their own history" on public.user_history
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Service role can read all history" on public.user_history
  for select to service_role using (true);
create policy "Service role can insert history" on public.user_history
  for insert to service_role with check (true);

-- embeddings: shared and public to read; written by the service role.
create policy "Embeddings are public" on public.embeddings
  for select to anon, authenticated using (true);
create policy "Service role can read embeddings" on public.embeddings
  for select to service_role using (true);
create policy "Service role can insert embeddings" on public.embeddings
  for insert to service_role with check (true);
create policy "Service role can update embeddings" on public.embeddings
  for update to service_role using (true) with check (true);

-- bands: public ones for everyone, own ones for the creator.
create policy "Public bands are readable" on public.bands
  for select to anon, authenticated using (is_public);
create policy "Users can read their own bands" on public.bands
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users can create their own bands" on public.bands
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users can update their own bands" on public.bands
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users can delete their own bands" on public.bands
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Service role can read all bands" on public.bands
  for select to service_role using (true);
create policy "Service role can insert bands" on public.bands
  for insert to service_role with check (true);
create policy "Service role can update all bands" on public.bands
  for update to service_role using (true) with check (true);

-- generated_tracks: own tracks, plus public ones (a track is public when a public band
-- holds it, as its band_id or through band_tracks).
create policy "Users can read their own tracks" on public.generated_tracks
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Public tracks are readable" on public.generated_tracks
  for select to anon, authenticated using (
    exists (
      select 1 from public.bands b
       where b.is_public
         and (b.id = generated_tracks.band_id
              or exists (select 1 from public.band_tracks bt
                          where bt.band_id = b.id and bt.track_id = generated_tracks.id))
    )
  );
create policy "Users can insert their own tracks" on public.generated_tracks
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users can update their own tracks" on public.generated_tracks
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Service role can read all tracks" on public.generated_tracks
  for select to service_role using (true);
create policy "Service role can insert tracks" on public.generated_tracks
  for insert to service_role with check (true);
create policy "Service role can update all tracks" on public.generated_tracks
  for update to service_role using (true) with check (true);

-- band_tracks: public read; a band's owner adds and removes its tracks.
create policy "Band tracks are public" on public.band_tracks
  for select to anon, authenticated using (true);
create policy "Users can add tracks to their own bands" on public.band_tracks
  for insert to authenticated with check (
    exists (select 1 from public.bands b
             where b.id = band_tracks.band_id and b.user_id = (select auth.uid()))
  );
create policy "Users can remove tracks from their own bands" on public.band_tracks
  for delete to authenticated using (
    exists (select 1 from public.bands b
             where b.id = band_tracks.band_id and b.user_id = (select auth.uid()))
  );
create policy "Service role can read all band tracks" on public.band_tracks
  for select to service_role using (true);
create policy "Service role can insert band tracks" on public.band_tracks
  for insert to service_role with check (true);
create policy "Service role can delete band tracks" on public.band_tracks
  for delete to service_role using (true);

-- user_playlists: own + public to read; own to write.
create policy "Users can read their own playlists" on public.user_playlists
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Public playlists are readable" on public.user_playlists
  for select to anon, authenticated using (is_public);
create policy "Users can insert their own playlists" on public.user_playlists
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users can update their own playlists" on public.user_playlists
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users can delete their own playlists" on public.user_playlists
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Service role can read all playlists" on public.user_playlists
  for select to service_role using (true);
create policy "Service role can insert playlists" on public.user_playlists
  for insert to service_role with check (true);
create policy "Service role can update all playlists" on public.user_playlists
  for update to service_role using (true) with check (true);
create policy "Service role can delete playlists" on public.user_playlists
  for delete to service_role using (true);

-- user_library: own entries.
create policy "Users can read their own library" on public.user_library
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users can add to their own library" on public.user_library
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users can remove from their own library" on public.user_library
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Service role can read all libraries" on public.user_library
  for select to service_role using (true);
create policy "Service role can insert library entries" on public.user_library
  for insert to service_role with check (true);
create policy "Service role can delete library entries" on public.user_library
  for delete to service_role using (true);

-- user_follows: own follows.
create policy "Users can read their own follows" on public.user_follows
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users can follow bands" on public.user_follows
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users can unfollow bands" on public.user_follows
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Service role can read all follows" on public.user_follows
  for select to service_role using (true);
create policy "Service role can insert follows" on public.user_follows
  for insert to service_role with check (true);
create policy "Service role can delete follows" on public.user_follows
  for delete to service_role using (true);

-- oauth_connections: tokens are private; only the service role creates them.
create policy "Users can read their own connections" on public.oauth_connections
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users can update their own connections" on public.oauth_connections
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users can delete their own connections" on public.oauth_connections
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Service role can read all connections" on public.oauth_connections
  for select to service_role using (true);
create policy "Service role can insert connections" on public.oauth_connections
  for insert to service_role with check (true);
create policy "Service role can update all connections" on public.oauth_connections
  for update to service_role using (true) with check (true);
create policy "Service role can delete connections" on public.oauth_connections
  for delete to service_role using (true);
