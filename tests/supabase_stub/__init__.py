"""A loopback stand-in for the parts of Supabase the app talks to, for tests only.

PostgREST (the Data API) and GoTrue (Auth) cannot be installed on these machines: no
package in the reachable registries ships either server. So this package implements the
small subset of their documented behaviour the app uses, in front of the REAL PostgreSQL:

* ``data_api.py`` — what PostgREST does per request (PostgREST docs, "Transactions" and
  "Authentication > JWT"): in ONE transaction, ``SET LOCAL ROLE`` to the token's ``role``
  claim, ``set_config('request.jwt.claims', <claims>, true)``, then the function call
  ("Functions as RPC": arguments from the JSON body, by name, typed from the function's
  signature). It connects as ``authenticator`` (LOGIN NOINHERIT, member of anon,
  authenticated and service_role), exactly as PostgREST does on Supabase.
* ``server.py`` — the HTTP side in a thread: JWTs (HS256, PyJWT) verified before anything
  runs, expired or badly signed ones refused with 401 as PostgREST does; the Auth calls
  supabase-py makes (``/auth/v1/otp``, ``/verify``, ``/token?grant_type=refresh_token``,
  ``grant_type=pkce``, ``/authorize``, ``/user``, ``/logout``) answered with tokens it signs;
  and the Storage object endpoints the app uses, whose row in ``storage.objects`` is
  written as the user, so the migration's Storage policies decide.

The client under test is the real supabase-py stack; only the servers are stand-ins.
"""
