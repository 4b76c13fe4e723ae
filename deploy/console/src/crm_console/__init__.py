"""The web console's server: the built single-page app, a proxy to the apis, and sign-in.

One origin for the browser: `/` serves console/dist, `/api/<service>/...` reaches that service's
api (prefix stripped, streamed), `/auth/...` tells the app how to sign in (dev users and tokens
in dev; the OIDC issuer in production).
"""
