-- Vector spaces. Vectors made by different embedders (the descriptor embedder,
-- MERT-v1-95M, ...) have the same width but mean different things, so comparing them is
-- meaningless. Every stored vector now names its space ('descriptor-v1', 'mert-v1-95m',
-- ...), and similarity queries filter on it. NULL means "made before spaces were recorded":
-- such vectors match no query until they are re-embedded.
alter table public.embeddings add column if not exists embedding_space text;
alter table public.users add column if not exists embedding_space text;
alter table public.bands add column if not exists embedding_space text;

comment on column public.embeddings.embedding_space is
  'Vector space of vector (embedder id, e.g. descriptor-v1, mert-v1-95m); NULL = unknown.';
comment on column public.users.embedding_space is
  'Vector space of taste_vector; NULL = unknown.';
comment on column public.bands.embedding_space is
  'Vector space of style_vector; NULL = unknown.';

-- No b-tree index on embedding_space: nearly every row shares the active space, so it
-- would not select anything, and the planner would pick it over the ivfflat index for
-- "nearest in this space" queries (filter, then sort everything) on small tables.

-- Sources the app produces besides the shared catalogues: 'infinite' for generated tracks
-- (track_id = the generated_tracks id as text), 'local' for the listener's own files,
-- 'apple' and 'youtube' for imported tracks.
alter table public.embeddings drop constraint if exists embeddings_source_check;
alter table public.embeddings add constraint embeddings_source_check
  check (source in ('musicbrainz', 'spotify', 'fma', 'jamendo',
                    'infinite', 'local', 'apple', 'youtube'));

-- A user writes their own taste vector, so they must be able to write its space too
-- (users has column-level grants; see the initial schema).
grant insert (embedding_space), update (embedding_space) on public.users to authenticated;
