-- Generation: the freemium quota and what a track was made from.
--
-- users.daily_count_date is the UTC day daily_count counts. A counter from an earlier day
-- is stale and counts as zero, so the quota resets at midnight UTC even when nothing ran
-- at midnight (the desktop app is often closed then).
alter table public.users add column if not exists daily_count_date date;

-- Why a generation failed (kept with the failed row), and the engine parameters that
-- reproduce the track from its seed (similar/extend start from them).
alter table public.generated_tracks add column if not exists error text;
alter table public.generated_tracks add column if not exists generation_params jsonb;

comment on column public.users.daily_count_date is
  'UTC day that daily_count counts; an older day means the count is zero.';
comment on column public.generated_tracks.error is 'Why generation failed (status = failed).';
comment on column public.generated_tracks.generation_params is
  'Engine parameters that reproduce the track (engine, genre, bpm, key, seed, ...).';

-- Check and take one generation in one statement. Concurrent calls serialise on the row
-- lock and each re-checks the condition, so no number of parallel requests can exceed the
-- limit. Returns the new count, or NULL when the user has no generation left today.
-- Premium users are counted but never refused.
create or replace function public.consume_generation_quota(p_user_id uuid, p_daily_limit integer)
returns integer
language sql
set search_path = public
as $$
  update public.users
     set daily_count = case
           when daily_count_date = (now() at time zone 'utc')::date
             then coalesce(daily_count, 0) + 1
           else 1
         end,
         daily_count_date = (now() at time zone 'utc')::date
   where id = p_user_id
     and (coalesce(premium, false)
          or daily_count_date is distinct from (now() at time zone 'utc')::date
          or coalesce(daily_count, 0) < p_daily_limit)
  returning daily_count;
$$;

-- Give a generation back when it failed, on the same UTC day only.
create or replace function public.refund_generation_quota(p_user_id uuid)
returns void
language sql
set search_path = public
as $$
  update public.users
     set daily_count = greatest(coalesce(daily_count, 0) - 1, 0)
   where id = p_user_id
     and daily_count_date = (now() at time zone 'utc')::date;
$$;

-- Only the server side (service_role) spends or refunds quota.
revoke execute on function public.consume_generation_quota(uuid, integer) from public;
revoke execute on function public.refund_generation_quota(uuid) from public;
grant execute on function public.consume_generation_quota(uuid, integer) to service_role;
grant execute on function public.refund_generation_quota(uuid) to service_role;
