-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d).
-- The converter worker keeps its Spring Batch job repository in its own database: the registry's
-- Flyway refuses to baseline a non-empty schema, so the two must not share one on a fresh install
-- where the worker might create its tables first.
CREATE DATABASE aneforge_batch OWNER aneforge;
