-- What every Supabase project already has, for a plain PostgreSQL (the embedded server,
-- a test server). NOT a migration: Supabase owns these objects and migrations must never
-- create or replace them. Every step is skipped where the object exists, so this is safe
-- to run on each start. Needs a superuser (roles, BYPASSRLS).

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

-- On Supabase a project's owner may create pgvector (supautils allows it); a plain
-- Postgres only lets a superuser, so the extension is created here, ahead of the
-- migration's own `create extension if not exists vector`.
create extension if not exists vector;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

-- auth.uid(), auth.role() and auth.jwt() exactly as Supabase defines them: the claim set
-- by PostgREST per request, in either the legacy per-claim setting or the JSON one.
do $$
begin
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $f$;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $f$;
  end if;
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
  end if;
end
$$;

grant execute on function auth.uid(), auth.role(), auth.jwt()
  to anon, authenticated, service_role;

grant usage on schema public to anon, authenticated, service_role;
