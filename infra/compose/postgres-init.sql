-- Runs once, when the compose PostgreSQL volume is first created. The product's database
-- ("weather") is created by the bootstrap worker; the registry needs its own before it starts.
CREATE DATABASE apicurio_registry;
