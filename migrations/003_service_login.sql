-- The service's login. It is a member of whitecross_app and has no
-- privilege of its own, so whatever the service's SQL does, it can do no
-- more than read the log and append to it: there is no role above it to
-- switch back to. It has no password: where the server asks for one, an
-- administrator sets it (ALTER ROLE whitecross_service PASSWORD …) or makes
-- another login that is a member of whitecross_app, and names it in
-- WHITECROSS_APP_DATABASE_URL. Roles belong to the whole cluster, so
-- another database may have made it.
DO $$
BEGIN
    CREATE ROLE whitecross_service LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
        NOREPLICATION NOBYPASSRLS INHERIT;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT whitecross_app TO whitecross_service;
