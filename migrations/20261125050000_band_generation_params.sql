-- Bands remember how they were made: the genres, vibe and name seed their persona came
-- from. Band radio builds its generation requests from these, so a band keeps sounding
-- like itself, and re-rolling a persona is reproducible.
-- Example: {"genres": ["house", "funk"], "vibe": "energetic", "name_seed": 7}
alter table public.bands
  add column if not exists generation_params jsonb not null default '{}'::jsonb;

comment on column public.bands.generation_params is
  'How the band was generated: genres, vibe, name_seed (used by band radio).';
