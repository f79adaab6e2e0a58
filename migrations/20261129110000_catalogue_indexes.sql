-- Vector indexes: HNSW instead of ivfflat, chosen by measurement (tests/bench/bench_db.py,
-- figures in docs/areas/embedding.md and issue 15).
--
-- The ivfflat indexes of the initial schema were created on empty tables, so their lists
-- were trained on nothing: rows arriving later all fall into arbitrary lists, and recall
-- depends on rebuilding at the right moments. HNSW needs no training, stays right while
-- rows arrive one by one, and measured better recall at lower latency on realistic
-- vectors. The spec's index names are kept; only the access method changes.
--
-- m = 16, ef_construction = 64 are pgvector's defaults; the benchmark found larger values
-- bought no recall on catalogue-like data while building slower. The query-time
-- ef_search and iterative scans are set per transaction by player/search.py.
-- Plain CREATE INDEX (not CONCURRENTLY): migrations run inside a transaction, here and in
-- the Supabase CLI.

drop index if exists public.idx_embeddings_vector;
create index idx_embeddings_vector on public.embeddings
  using hnsw (vector vector_cosine_ops) with (m = 16, ef_construction = 64);

drop index if exists public.idx_bands_style_vector;
create index idx_bands_style_vector on public.bands
  using hnsw (style_vector vector_cosine_ops) with (m = 16, ef_construction = 64);

drop index if exists public.idx_users_taste_vector;
create index idx_users_taste_vector on public.users
  using hnsw (taste_vector vector_cosine_ops) with (m = 16, ef_construction = 64);

-- Vectors stored in the row, not in TOAST. A 768-d vector is 3 KB, over the 2 KB TOAST
-- threshold, so by default it lives out of line and the table's own pages hold only the
-- small columns: the planner then costs "read every row, sort by distance" as a scan of a
-- tiny table (it does not count de-TOASTing) and chose it over the HNSW index on
-- catalogues of 20k rows, taking 30-400 ms instead of 2 ms (tests/bench/bench_db.py prints
-- the plan of every measured configuration). PLAIN makes the table's size honest. It
-- applies to rows written from now on; `infinite-player db maintain` reports older ones.
alter table public.embeddings alter column vector set storage plain;
alter table public.bands alter column style_vector set storage plain;
alter table public.users alter column taste_vector set storage plain;
