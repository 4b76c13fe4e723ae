-- Runs once, when the postgres container initialises an empty data volume:
-- one server, one database per service (owner: the compose user, POSTGRES_USER).
CREATE DATABASE crm_contacts;
CREATE DATABASE crm_feedback;
CREATE DATABASE crm_scoring;
CREATE DATABASE crm_notifications;
