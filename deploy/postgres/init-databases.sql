-- One database per service (ARCHITECTURE.md "Storage"); run once by the postgres image on an empty volume.
-- The schema inside each database is owned by that service's Alembic history, never created here.
CREATE DATABASE planning;
CREATE DATABASE execution;
CREATE DATABASE scoring;
CREATE DATABASE budget;
CREATE DATABASE accounts;
